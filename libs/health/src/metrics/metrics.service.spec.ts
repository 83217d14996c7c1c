import type { ModelService } from '@qwen/model';
import type { TokenizerSupervisor } from '@qwen/tokenizer';
import { modelSnapshot, tokenizerSnapshot } from '../../../../test/doubles/health';
import { MetricsService, RequestObservation } from './metrics.service';

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no series ${series} in:\n${text.slice(0, 2000)}`);
  return Number(line.slice(series.length + 1));
}

const observation: RequestObservation = {
  route: 'POST /v1/chat/completions',
  status: 200,
  dialect: 'openai',
  queueWaitMs: 1500,
  ttftMs: 800,
  promptTokens: 31,
  completionTokens: 12,
  durationMs: 2400,
};

describe(MetricsService.name, () => {
  const model = { current: modelSnapshot(), snapshot: () => model.current };
  const tokenizer = { current: tokenizerSnapshot(), snapshot: () => tokenizer.current };
  let metrics: MetricsService;

  beforeEach(() => {
    model.current = modelSnapshot();
    tokenizer.current = tokenizerSnapshot();
    metrics = new MetricsService(model as unknown as ModelService, tokenizer as unknown as TokenizerSupervisor);
  });

  it('counts requests, tokens and fills the histograms from observeRequest', async () => {
    const before = await metrics.metrics();
    expect(before).toContain('# TYPE qwen_requests_total counter');
    expect(before).not.toContain('qwen_requests_total{');
    metrics.observeRequest(observation);
    metrics.observeRequest({ ...observation, status: 503, queueWaitMs: null, ttftMs: null, promptTokens: 0, completionTokens: 0, durationMs: 3 });
    const text = await metrics.metrics();
    expect(value(text, 'qwen_requests_total{route="POST /v1/chat/completions",status="200",dialect="openai"}')).toBe(1);
    expect(value(text, 'qwen_requests_total{route="POST /v1/chat/completions",status="503",dialect="openai"}')).toBe(1);
    expect(value(text, 'qwen_prompt_tokens_total{dialect="openai"}')).toBe(31);
    expect(value(text, 'qwen_generated_tokens_total{dialect="openai"}')).toBe(12);
    expect(value(text, 'qwen_queue_wait_seconds_count{dialect="openai"}')).toBe(1);
    expect(value(text, 'qwen_queue_wait_seconds_sum{dialect="openai"}')).toBe(1.5);
    expect(value(text, 'qwen_queue_wait_seconds_bucket{le="1",dialect="openai"}')).toBe(0);
    expect(value(text, 'qwen_queue_wait_seconds_bucket{le="2.5",dialect="openai"}')).toBe(1);
    expect(value(text, 'qwen_time_to_first_token_seconds_sum{dialect="openai"}')).toBe(0.8);
    expect(value(text, 'qwen_request_duration_seconds_count{route="POST /v1/chat/completions",dialect="openai"}')).toBe(2);
    expect(value(text, 'qwen_request_duration_seconds_sum{route="POST /v1/chat/completions",dialect="openai"}')).toBeCloseTo(2.403);
  });

  it('shows the queue\'s oldest wait, the estimated wait and the phase and progress of the turn on the runner', async () => {
    model.current = modelSnapshot({
      state: 'busy',
      queue: { length: 2, limit: 16, inFlight: 1 },
      oldestWaitMs: 4500,
      estimatedWaitMs: 61_000,
      turn: { phase: 'prefill', promptTokens: 700, fedEstimate: 280, generatedTokens: 0, maxTokens: 324, elapsedMs: 20_000 },
    });
    const text = await metrics.metrics();
    expect(value(text, 'qwen_queue_oldest_wait_seconds')).toBe(4.5);
    expect(value(text, 'qwen_queue_estimated_wait_seconds')).toBe(61);
    expect(value(text, 'qwen_turn_phase{state="prefill"}')).toBe(1);
    expect(value(text, 'qwen_turn_phase{state="generating"}')).toBe(0);
    expect(value(text, 'qwen_turn_prompt_tokens')).toBe(700);
    expect(value(text, 'qwen_turn_prompt_tokens_fed')).toBe(280);
    expect(value(text, 'qwen_turn_generated_tokens')).toBe(0);
  });

  it('reads the model and tokenizer at scrape time', async () => {
    model.current = modelSnapshot({ state: 'busy', queue: { length: 5, limit: 16, inFlight: 1 }, restarts: 2, loads: 3, lastTokensPerSecond: 12.5 });
    tokenizer.current = tokenizerSnapshot({ restarts: 4 });
    let text = await metrics.metrics();
    expect(value(text, 'qwen_queue_length')).toBe(5);
    expect(value(text, 'qwen_queue_limit')).toBe(16);
    expect(value(text, 'qwen_requests_in_flight')).toBe(1);
    expect(value(text, 'qwen_last_turn_tokens_per_second')).toBe(12.5);
    expect(value(text, 'qwen_runner_restarts_total')).toBe(2);
    expect(value(text, 'qwen_model_loads_total')).toBe(3);
    expect(value(text, 'qwen_tokenizer_restarts_total')).toBe(4);
    expect(value(text, 'qwen_model_state{state="busy"}')).toBe(1);
    expect(value(text, 'qwen_model_state{state="ready"}')).toBe(0);
    expect(value(text, 'qwen_tokenizer_state{state="ready"}')).toBe(1);
    expect(text).toContain('# TYPE qwen_runner_restarts_total counter');

    expect(value(text, 'qwen_turn_phase{state="idle"}')).toBe(1);
    expect(value(text, 'qwen_queue_oldest_wait_seconds')).toBe(0);

    model.current = modelSnapshot({ state: 'failed', deviceDead: true, restarts: 3 });
    text = await metrics.metrics();
    expect(value(text, 'qwen_model_state{state="failed"}')).toBe(1);
    expect(value(text, 'qwen_model_state{state="busy"}')).toBe(0);
    expect(value(text, 'qwen_runner_restarts_total')).toBe(3);
    expect(value(text, 'qwen_npu_device_dead')).toBe(1);
  });

  it('includes the default process metrics', async () => {
    const text = await metrics.metrics();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(value(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('forgets every metric when the application closes (prom-client\'s GC observer outlives it and holds the registry)', async () => {
    metrics.observeRequest(observation);
    expect(await metrics.metrics()).toContain('qwen_model_state');
    metrics.onModuleDestroy();
    expect(await metrics.registry.getMetricsAsJSON()).toEqual([]);
  });

  it('works without a model or tokenizer (request metrics only)', async () => {
    const bare = new MetricsService();
    bare.observeRequest(observation);
    const text = await bare.metrics();
    expect(value(text, 'qwen_generated_tokens_total{dialect="openai"}')).toBe(12);
    expect(text).not.toContain('qwen_model_state');
  });
});
