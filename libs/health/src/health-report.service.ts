import { Inject, Injectable } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import { ModelService } from '@qwen/model';
import type { ModelSnapshot } from '@qwen/model';
import { HealthLevel, worstLevel } from './health-assessment';
import { HEALTH_OPTIONS, HealthModuleOptions } from './health.options';
import {
  ModelHealthIndicator,
  NpuHealthIndicator,
  ProcessHealthIndicator,
  TokenizerHealthIndicator,
} from './indicators/dependency-indicators';

/** One dependency in GET /health: its level, whether it can take a request now, why not, and its facts. */
export interface ComponentHealth {
  status: HealthLevel;
  ready: boolean;
  reason: string | null;
  [fact: string]: unknown;
}

/** The body of GET /health. */
export interface HealthReport {
  status: HealthLevel;
  /** Every reason the status is not `ok`, most important first; empty when ok. */
  reasons: string[];
  details: {
    tokenizer: ComponentHealth;
    model: ComponentHealth;
    queue: ModelSnapshot['queue'];
    /** The oldest wait in the queue and the wait a request admitted now would have, ms (estimated). */
    waiting: Pick<ModelSnapshot, 'oldestWaitMs' | 'estimatedWaitMs'>;
    /** The request on the runner: phase (prefill/generating) and progress; null when idle. */
    turn: ModelSnapshot['turn'];
    npu: ComponentHealth;
    service: { uptimeSeconds: number; version: string; pid: number; node: string };
  };
}

/** Composes GET /health from the three indicators (each under its own deadline) and the queue. */
@Injectable()
export class HealthReportService {
  constructor(
    private readonly tokenizer: TokenizerHealthIndicator,
    private readonly model: ModelHealthIndicator,
    private readonly npu: NpuHealthIndicator,
    private readonly process: ProcessHealthIndicator,
    private readonly modelService: ModelService,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthModuleOptions,
  ) {}

  async report(): Promise<HealthReport> {
    const [tokenizer, model, npu] = await Promise.all([this.tokenizer.check('tokenizer'), this.model.check('model'), this.npu.check('npu')]);
    const snapshot = this.modelService.snapshot();
    const details = {
      tokenizer: component(tokenizer.tokenizer),
      model: component(model.model),
      queue: snapshot.queue,
      waiting: { oldestWaitMs: snapshot.oldestWaitMs, estimatedWaitMs: snapshot.estimatedWaitMs },
      turn: snapshot.turn,
      npu: component(npu.npu),
      service: { uptimeSeconds: this.process.uptimeSeconds(), version: this.options.version ?? 'unknown', pid: process.pid, node: process.version },
    };
    const parts = [details.model, details.tokenizer, details.npu];
    return {
      status: worstLevel(parts.map((p) => p.status)),
      reasons: parts.filter((p) => p.reason).map((p) => p.reason as string),
      details,
    };
  }
}

function component(raw: HealthIndicatorResult[string]): ComponentHealth {
  const { status, level, reason, ...facts } = raw as { status: 'up' | 'down'; level?: HealthLevel; reason?: string | null };
  return { status: level ?? (status === 'up' ? 'ok' : 'down'), ready: status === 'up', reason: reason ?? null, ...facts };
}
