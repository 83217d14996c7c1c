/**
 * Long waits against the REAL service (tokenizer server process, runner emulator under node-pty):
 * a streamed request queued behind a long answer gets its headers and progress comments at once,
 * long before its first token; a non-streamed one that would wait too long is refused at once;
 * /health and /metrics show the queue and the turn. Requires `npm run build`.
 */
import { TestService, startTestService } from '@qwen/testing';
import OpenAI from 'openai';

jest.setTimeout(60000);

/** What a streamed response delivered, with when (ms since the request was sent). */
interface TimedStream {
  headersAtMs: number;
  status: number;
  /** SSE comment lines (without the leading ": ") with their arrival times. */
  comments: Array<{ text: string; atMs: number }>;
  firstContentAtMs: number | null;
  content: string;
  done: boolean;
}

async function timedStream(url: string, body: unknown): Promise<TimedStream> {
  const sent = Date.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const out: TimedStream = { headersAtMs: Date.now() - sent, status: res.status, comments: [], firstContentAtMs: null, content: '', done: false };
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const atMs = Date.now() - sent;
      if (line.startsWith(':')) out.comments.push({ text: line.slice(1).trim(), atMs });
      else if (line === 'data: [DONE]') out.done = true;
      else if (line.startsWith('data: ')) {
        const delta = (JSON.parse(line.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content;
        if (delta) {
          out.firstContentAtMs ??= atMs;
          out.content += delta;
        }
      }
    }
  }
  return out;
}

describe('Long waits: streams kept alive, long non-streamed waits refused, the queue visible', () => {
  let service: TestService;
  let client: OpenAI;

  beforeAll(async () => {
    service = await startTestService({
      // 40 ms per token for the prompt and the answer: a long answer holds the runner for seconds.
      emulatorEnv: { QWEN_EMU_TOKEN_MS: '40' },
      configure: (c) => {
        c.model.progressIntervalMs = 300;
        c.model.nonStreamedMaxWaitMs = 1; // any wait behind a turn in flight is too long (idle: 0 ms, admitted)
      },
    });
    client = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'sk-not-checked', maxRetries: 0 });
  });
  afterAll(() => service?.close());

  const chat = (content: string) => ({ model: 'qwen2.5', messages: [{ role: 'user' as const, content }] });

  it('gives a streamed request queued behind a long answer its headers and a comment long before its first token', async () => {
    const long = 'a long answer that keeps the card busy '.repeat(12).trim();
    const first = client.chat.completions.create(chat(long));
    await service.waitForModel((s) => s.queue.inFlight === 1, 'the long answer to reach the runner');
    const queued = 'queued behind the long answer';
    const stream = await timedStream(`${service.url}/v1/chat/completions`, { ...chat(queued), stream: true });

    expect(stream.status).toBe(200);
    expect(stream.content).toBe(queued);
    expect(stream.done).toBe(true);
    expect(stream.firstContentAtMs).not.toBeNull();
    // The headers and the first comment came at once, the first token only after the long answer.
    expect(stream.firstContentAtMs! - stream.headersAtMs).toBeGreaterThan(2000);
    expect(stream.comments[0].text).toMatch(/^queued: position 1, \d+ prompt tokens, first token in about \d+ s$/);
    expect(stream.firstContentAtMs! - stream.comments[0].atMs).toBeGreaterThan(2000);
    // …and more comments while it waited (every 300 ms here), then how long it waited, then its prefill.
    expect(stream.comments.filter((c) => c.text.startsWith('queued:')).length).toBeGreaterThan(3);
    expect(stream.comments.map((c) => c.text)).toContainEqual(expect.stringMatching(/^started: waited \d+ ms in the queue$/));
    expect((await first).choices[0].message.content).toBe(long);
  });

  it('refuses at once a non-streamed request that would wait too long (503, Retry-After), streams still wait', async () => {
    const long = 'another long answer holding the card for seconds '.repeat(10).trim();
    const first = client.chat.completions.create(chat(long));
    await service.waitForModel((s) => s.queue.inFlight === 1, 'the long answer to reach the runner');
    const res = await fetch(`${service.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat('too late')) });
    // Refused, never queued behind the long answer (no stopwatch here: this machine is shared and noisy).
    expect(service.model.snapshot().queue.length).toBe(0);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await res.json()).toMatchObject({ error: { type: 'server_error', code: 'queue_wait_too_long' } });

    const streamed = client.chat.completions.create({ ...chat('a stream may wait'), stream: true });
    await service.waitForModel((s) => s.queue.length === 1, 'the stream to wait in the queue');
    const health = (await (await fetch(`${service.url}/health`)).json()) as {
      details: { queue: { length: number }; waiting: { oldestWaitMs: number; estimatedWaitMs: number }; turn: { phase: string; promptTokens: number } };
    };
    expect(health.details.queue.length).toBe(1);
    expect(health.details.waiting.oldestWaitMs).toBeGreaterThanOrEqual(0);
    expect(health.details.waiting.estimatedWaitMs).toBeGreaterThan(0);
    expect(health.details.turn).toMatchObject({ phase: expect.stringMatching(/^(prefill|generating)$/), promptTokens: expect.any(Number) });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^qwen_queue_length 1$/m);
    expect(metrics).toMatch(/^qwen_turn_phase\{state="idle"\} 0$/m);

    let text = '';
    for await (const chunk of await streamed) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('a stream may wait');
    const answer = await first.withResponse();
    expect(answer.data.choices[0].message.content).toBe(long);
    expect(Number(answer.response.headers.get('x-qwen-queue-wait-ms'))).toBeGreaterThanOrEqual(0);
  });
});
