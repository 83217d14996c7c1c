/** GET /metrics against the REAL service: the series exist and move with requests and restarts. */
import { startTestService, TestService } from './support';

jest.setTimeout(60000);

function series(text: string, prefix: string): number {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`no series starting with ${prefix}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

function sumOf(text: string, name: string, mustContain: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(mustContain))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('GET /metrics (emulator)', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(async () => service?.close());

  async function scrape(): Promise<string> {
    const res = await fetch(`${service.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    return res.text();
  }

  it('exposes the model, queue and process series', async () => {
    const text = await scrape();
    expect(series(text, 'qwen_model_state{state="ready"}')).toBe(1);
    expect(series(text, 'qwen_model_state{state="loading"}')).toBe(0);
    expect(series(text, 'qwen_tokenizer_state{state="ready"}')).toBe(1);
    expect(series(text, 'qwen_model_loads_total')).toBe(1);
    expect(series(text, 'qwen_runner_restarts_total')).toBe(0);
    expect(series(text, 'qwen_tokenizer_restarts_total')).toBe(0);
    expect(series(text, 'qwen_queue_length')).toBe(0);
    expect(series(text, 'qwen_requests_in_flight')).toBe(0);
    expect(series(text, 'qwen_queue_limit')).toBe(service.config.model.queueMaxLength);
    expect(series(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE qwen_time_to_first_token_seconds histogram');
  });

  it('moves after chat requests', async () => {
    const before = await scrape();
    const content = 'count these words for the metrics please';
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${service.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'qwen2.5', messages: [{ role: 'user', content }] }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { choices: Array<{ message: { content: string } }>; usage: { completion_tokens: number } };
      expect(body.choices[0].message.content).toBe(content);
    }
    const bad = await fetch(`${service.url}/v1/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(bad.status).toBe(400);

    const after = await scrape();
    expect(sumOf(after, 'qwen_requests_total', 'status="200"') - sumOf(before, 'qwen_requests_total', 'status="200"')).toBe(2);
    expect(sumOf(after, 'qwen_requests_total', 'status="400"') - sumOf(before, 'qwen_requests_total', 'status="400"')).toBe(1);
    expect(sumOf(after, 'qwen_generated_tokens_total', 'dialect="openai"')).toBeGreaterThan(sumOf(before, 'qwen_generated_tokens_total', 'dialect="openai"'));
    expect(sumOf(after, 'qwen_prompt_tokens_total', 'dialect="openai"')).toBeGreaterThan(sumOf(before, 'qwen_prompt_tokens_total', 'dialect="openai"'));
    expect(series(after, 'qwen_time_to_first_token_seconds_count{dialect="openai"}')).toBe(2);
    expect(series(after, 'qwen_queue_wait_seconds_count{dialect="openai"}')).toBe(2);
    expect(series(after, 'qwen_last_turn_tokens_per_second')).toBeGreaterThan(0);
  });

  it('counts a runner restart', async () => {
    process.kill(service.model.snapshot().pid!, 'SIGKILL');
    await service.waitForModel((s) => s.state === 'ready' && s.loads === 2, 'the restarted runner');
    const text = await scrape();
    expect(series(text, 'qwen_runner_restarts_total')).toBe(1);
    expect(series(text, 'qwen_model_loads_total')).toBe(2);
  });
});
