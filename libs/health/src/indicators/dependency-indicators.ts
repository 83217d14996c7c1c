import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { ModelService } from '@qwen/model';
import type { ModelSnapshot } from '@qwen/model';
import { TokenizerSupervisor } from '@qwen/tokenizer';
import { Assessment, assessModel, assessNpu, assessTokenizer } from '../health-assessment';
import { HealthClock } from '../health-clock';
import { HEALTH_OPTIONS, HealthIndicatorTimeouts, HealthModuleOptions } from '../health.options';
import { NpuStatusService } from '../npu/npu-status.service';
import { withDeadline } from './indicator-deadline';

/** Margin over axcl-smi's own deadline (the runner kills it at npu.timeoutMs). */
const NPU_INDICATOR_MARGIN_MS = 500;

export function indicatorTimeouts(options: HealthModuleOptions): HealthIndicatorTimeouts {
  return {
    tokenizer: options.indicatorTimeouts?.tokenizer ?? 1000,
    model: options.indicatorTimeouts?.model ?? 1000,
    npu: options.indicatorTimeouts?.npu ?? options.npu.timeoutMs + NPU_INDICATOR_MARGIN_MS,
  };
}

function result<K extends string>(indicators: HealthIndicatorService, key: K, a: Assessment, data: Record<string, unknown>): HealthIndicatorResult<K> {
  const session = indicators.check(key);
  const payload = { level: a.level, reason: a.reason, ...data };
  return (a.ready ? session.up(payload) : session.down(payload)) as HealthIndicatorResult<K>;
}

/** The tokenizer server: up when it answers (state `ready`). */
@Injectable()
export class TokenizerHealthIndicator {
  private readonly timeoutMs: number;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly tokenizer: TokenizerSupervisor,
    @Inject(HEALTH_OPTIONS) options: HealthModuleOptions,
  ) {
    this.timeoutMs = indicatorTimeouts(options).tokenizer;
  }

  check<const K extends string>(key: K): Promise<HealthIndicatorResult<K>> {
    return withDeadline(this.indicators, key, this.timeoutMs, () => {
      const s = this.tokenizer.snapshot();
      return result(this.indicators, key, assessTokenizer(s), {
        state: s.state,
        mode: s.mode,
        pid: s.pid,
        port: s.port,
        restarts: s.restarts,
        lastError: s.lastError,
        source: s.source,
        limitations: s.limitations,
      });
    });
  }
}

/** The runner: up when it can take a request now (state `ready` or `busy`). */
@Injectable()
export class ModelHealthIndicator {
  private readonly timeoutMs: number;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly model: ModelService,
    private readonly clock: HealthClock,
    @Inject(HEALTH_OPTIONS) options: HealthModuleOptions,
  ) {
    this.timeoutMs = indicatorTimeouts(options).model;
  }

  check<const K extends string>(key: K): Promise<HealthIndicatorResult<K>> {
    return withDeadline(this.indicators, key, this.timeoutMs, () => {
      const s = this.model.snapshot();
      return result(this.indicators, key, assessModel(s), modelDetails(s, this.clock.now()));
    });
  }
}

function modelDetails(s: ModelSnapshot, now: number): Record<string, unknown> {
  const failed = s.state === 'failed' || s.deviceDead;
  const started = s.pid !== null && s.startedAt ? Date.parse(s.startedAt) : NaN;
  return {
    state: s.state,
    progress: s.state === 'loading' ? s.progress : null,
    pid: s.pid,
    startedAt: s.pid !== null ? s.startedAt : null,
    uptimeSeconds: Number.isFinite(started) ? Math.max(0, Math.round((now - started) / 1000)) : null,
    loads: s.loads,
    restarts: s.restarts,
    consecutiveFailures: s.consecutiveFailures,
    lastError: s.lastError,
    ...(failed ? runnerLines(s.outputTail) : {}),
    deviceDead: s.deviceDead,
    maxTokenLen: s.maxTokenLen,
    sampling: s.sampling,
    lastTokensPerSecond: s.lastTokensPerSecond,
    prompt: s.prompt,
  };
}

/**
 * The lines of the runner's output tail that are the runner's or the system's own messages (log
 * records, device-manager lines, progress, shell and crash messages). Anything else may be model
 * text (an answer to a user) and stays out of /health, which monitors read without an API key;
 * the full output is in model.log.
 */
const RUNNER_MESSAGE = [
  /^\[[A-Z]\]\[/, // [E][   Init][ 120]: …
  /^\[\d{4}-\d{2}-\d{2}[^\]]*\]\[\d+\]\[[A-Z]\]/, // [2025-11-09 08:46:00.029][10994][W][device manager]…
  /^build time: /,
  /^bos_id: /,
  /\|\s*\d+\s*\/\s*\d+\s*\[.*count\/s\]/, // the load progress bar
  /^(\/bin\/)?sh: /,
  /^terminate called /,
  /(Segmentation fault|Aborted|core dumped|Killed)/,
];

function runnerLines(tail: string[]): { outputTail: string[]; outputTailHidden: number } {
  const outputTail = tail.filter((line) => RUNNER_MESSAGE.some((pattern) => pattern.test(line.trim())));
  return { outputTail, outputTailHidden: tail.length - outputTail.length };
}

/** The card, from axcl-smi (cached). Informative: never `down` by itself (a dead device shows in the model). */
@Injectable()
export class NpuHealthIndicator {
  private readonly timeoutMs: number;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly npu: NpuStatusService,
    @Inject(HEALTH_OPTIONS) options: HealthModuleOptions,
  ) {
    this.timeoutMs = indicatorTimeouts(options).npu;
  }

  check<const K extends string>(key: K): Promise<HealthIndicatorResult<K>> {
    return withDeadline(
      this.indicators,
      key,
      this.timeoutMs,
      async () => {
        const s = await this.npu.status();
        const { state, cardPresent, message, ...rest } = s;
        return result(this.indicators, key, assessNpu(s), { state, cardPresent, message, ...rest });
      },
      'degraded',
    );
  }
}

/** Liveness: answering at all proves the process and its event loop work; nothing else is asked. */
@Injectable()
export class ProcessHealthIndicator {
  private readonly startedAt: number;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly clock: HealthClock,
  ) {
    this.startedAt = clock.now();
  }

  uptimeSeconds(): number {
    return Math.round((this.clock.now() - this.startedAt) / 1000);
  }

  check<const K extends string>(key: K): HealthIndicatorResult<K> {
    return this.indicators.check(key).up({ pid: process.pid, uptimeSeconds: this.uptimeSeconds() }) as HealthIndicatorResult<K>;
  }
}
