import { Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import { ModelService } from '@qwen/model';
import type { ModelStateName } from '@qwen/model';
import { TokenizerSupervisor } from '@qwen/tokenizer';
import type { TokenizerStateName } from '@qwen/tokenizer';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the chat pipeline reports once per finished HTTP request. */
export interface RequestObservation {
  route: string;
  status: number;
  /** The API dialect that answered (openai, ollama). */
  dialect: string;
  /** Null when the request never reached the queue (validation errors…). */
  queueWaitMs: number | null;
  ttftMs: number | null;
  promptTokens: number;
  completionTokens: number;
  durationMs: number;
}

const MODEL_STATES: readonly ModelStateName[] = ['stopped', 'waiting-for-tokenizer', 'loading', 'ready', 'busy', 'restarting', 'failed'];
const TOKENIZER_STATES: readonly TokenizerStateName[] = ['stopped', 'starting', 'ready', 'restarting', 'failed'];

/**
 * Prometheus metrics (prom-client) on the service's own registry, served by GET /metrics.
 * Request figures are pushed once per request by the chat pipeline (observeRequest); the model's
 * and tokenizer's figures are read from their snapshots at scrape time, never on the token path.
 */
@Injectable()
export class MetricsService implements OnModuleDestroy {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'qwen_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['route', 'status', 'dialect'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'qwen_request_duration_seconds',
    help: 'Chat request duration, from arrival to the last byte (queue wait and generation included)',
    labelNames: ['route', 'dialect'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });
  private readonly queueWait = new Histogram({
    name: 'qwen_queue_wait_seconds',
    help: 'Time a request waited in the queue before the runner took it',
    labelNames: ['dialect'] as const,
    buckets: [0.005, 0.05, 0.25, 1, 2.5, 5, 10, 20, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly ttft = new Histogram({
    name: 'qwen_time_to_first_token_seconds',
    help: 'From typing the prompt handle to the first text (prefill runs at ~14 prompt tokens/s)',
    labelNames: ['dialect'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 40, 80],
    registers: [this.registry],
  });
  private readonly promptTokens = new Counter({
    name: 'qwen_prompt_tokens_total',
    help: 'Prompt tokens of the requests the runner took',
    labelNames: ['dialect'] as const,
    registers: [this.registry],
  });
  private readonly generatedTokens = new Counter({
    name: 'qwen_generated_tokens_total',
    help: 'Tokens generated for clients',
    labelNames: ['dialect'] as const,
    registers: [this.registry],
  });

  constructor(@Optional() model?: ModelService, @Optional() tokenizer?: TokenizerSupervisor) {
    collectDefaultMetrics({ register: this.registry });
    if (model) this.registerModelMetrics(model);
    if (tokenizer) this.registerTokenizerMetrics(tokenizer);
  }

  /**
   * The registry forgets its metrics when the application closes. prom-client's default metrics leave
   * a GC PerformanceObserver registered for the life of the process, holding this registry; without
   * this, the registry's scrape-time readers would keep the model and tokenizer services — the whole
   * closed application — reachable (every service a test suite starts and closes stayed in memory).
   */
  onModuleDestroy(): void {
    this.registry.clear();
  }

  observeRequest(o: RequestObservation): void {
    this.requests.inc({ route: o.route, status: String(o.status), dialect: o.dialect });
    this.duration.observe({ route: o.route, dialect: o.dialect }, o.durationMs / 1000);
    if (o.queueWaitMs !== null) this.queueWait.observe({ dialect: o.dialect }, o.queueWaitMs / 1000);
    if (o.ttftMs !== null) this.ttft.observe({ dialect: o.dialect }, o.ttftMs / 1000);
    if (o.promptTokens > 0) this.promptTokens.inc({ dialect: o.dialect }, o.promptTokens);
    if (o.completionTokens > 0) this.generatedTokens.inc({ dialect: o.dialect }, o.completionTokens);
  }

  /** The exposition text of every metric (Prometheus text format). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private registerModelMetrics(model: ModelService): void {
    const registers = [this.registry];
    gauge(registers, 'qwen_queue_length', 'Requests waiting behind the one generating', () => model.snapshot().queue.length);
    gauge(registers, 'qwen_queue_limit', 'Most requests allowed to wait (model.queueMaxLength)', () => model.snapshot().queue.limit);
    gauge(registers, 'qwen_requests_in_flight', 'Requests the runner is generating (0 or 1)', () => model.snapshot().queue.inFlight);
    gauge(registers, 'qwen_queue_oldest_wait_seconds', 'How long the oldest waiting request has waited (0 when none waits)', () =>
      (model.snapshot().oldestWaitMs ?? 0) / 1000,
    );
    gauge(registers, 'qwen_queue_estimated_wait_seconds', 'Estimated wait of a request admitted now, before it reaches the runner', () =>
      model.snapshot().estimatedWaitMs / 1000,
    );
    stateGauge(registers, 'qwen_turn_phase', 'The phase of the request on the runner: 1 for the current one', TURN_PHASES, () =>
      model.snapshot().turn?.phase ?? 'idle',
    );
    gauge(registers, 'qwen_turn_prompt_tokens', 'Prompt tokens of the request on the runner (0 when idle)', () => model.snapshot().turn?.promptTokens ?? 0);
    gauge(registers, 'qwen_turn_prompt_tokens_fed', 'Prompt tokens of the request on the runner fed so far (estimated from the measured rate)', () =>
      model.snapshot().turn?.fedEstimate ?? 0,
    );
    gauge(registers, 'qwen_turn_generated_tokens', 'Tokens generated so far by the request on the runner', () => model.snapshot().turn?.generatedTokens ?? 0);
    gauge(
      registers,
      'qwen_last_turn_tokens_per_second',
      "The runner's own token rate of the last turn (prompt tokens included); NaN before the first",
      () => model.snapshot().lastTokensPerSecond ?? Number.NaN,
    );
    counter(registers, 'qwen_runner_restarts_total', 'Runner restarts after a crash, hang or failed start', () => model.snapshot().restarts);
    counter(registers, 'qwen_model_loads_total', 'Runner processes started (each one loads the model)', () => model.snapshot().loads);
    stateGauge(registers, 'qwen_model_state', 'The model state: 1 for the current one', MODEL_STATES, () => model.snapshot().state);
    gauge(registers, 'qwen_npu_device_dead', '1 when the runner reported the NPU device dead (reboot needed)', () =>
      model.snapshot().deviceDead ? 1 : 0,
    );
  }

  private registerTokenizerMetrics(tokenizer: TokenizerSupervisor): void {
    const registers = [this.registry];
    counter(registers, 'qwen_tokenizer_restarts_total', 'Tokenizer server restarts', () => tokenizer.snapshot().restarts);
    stateGauge(registers, 'qwen_tokenizer_state', 'The tokenizer state: 1 for the current one', TOKENIZER_STATES, () => tokenizer.snapshot().state);
  }
}

/** `qwen_turn_phase` labels: no request on the runner, its prompt being fed, its answer being generated. */
const TURN_PHASES = ['idle', 'prefill', 'generating'] as const;

function gauge(registers: Registry[], name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
}

/** A counter whose value is owned elsewhere (a snapshot): set at scrape time. */
function counter(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function stateGauge(registers: Registry[], name: string, help: string, states: readonly string[], read: () => string): void {
  new Gauge({
    name,
    help,
    labelNames: ['state'] as const,
    registers,
    collect() {
      const current = read();
      for (const state of states) this.set({ state }, state === current ? 1 : 0);
    },
  });
}
