/**
 * The OpenAI SDK against the REAL service: HTTP API, tokenizer server process and the runner
 * emulator under node-pty. The emulator answers with the text of the last user message, so the
 * answer must equal exactly what was sent — through the chat template, the prompt handle, byte-level
 * decoding and SSE. Requires `npm run build`.
 */
import { TestService, startTestService } from '@qwen/testing';
import { writeFileSync } from 'node:fs';
import OpenAI from 'openai';

jest.setTimeout(60000);

describe('OpenAI SDK against the real service and the runner emulator', () => {
  let service: TestService;
  let client: OpenAI;

  beforeAll(async () => {
    service = await startTestService();
    client = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'sk-not-checked', maxRetries: 0 });
  });
  afterAll(() => service?.close());

  const ask = (content: string, extra: { max_tokens?: number; stop?: string[] } = {}) => ({
    model: 'qwen2.5',
    messages: [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content },
    ],
    ...extra,
  });

  it.each([
    ['plain text', 'Hello there, how are you?'],
    ['Chinese', '你好，世界！今天天气怎么样？'],
    ['emoji', 'Rockets 🚀 and families 👨‍👩‍👧 ok'],
  ])('answers %s exactly, with exact usage', async (_what, text) => {
    const { data, response } = await client.chat.completions.create(ask(text)).withResponse();
    expect(data.choices[0].message.content).toBe(text);
    expect(data.choices[0].finish_reason).toBe('stop');
    expect(data.model).toBe('qwen2.5');
    expect(data.usage?.prompt_tokens).toBeGreaterThan(5);
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(data.usage?.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    expect(response.headers.get('x-qwen-sampling')).toMatch(/temperature=/);
  });

  it('streams the same text with include_usage, and the .stream() helper agrees', async () => {
    const text = '流式 streaming ✓ works';
    const stream = await client.chat.completions.create({ ...ask(text), stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(text);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    const usage = chunks.at(-1)?.usage;
    expect(usage?.completion_tokens).toBeGreaterThan(0);

    const final = await client.chat.completions.stream(ask(text)).finalChatCompletion();
    expect(final.choices[0].message.content).toBe(text);
  });

  it('stops at max_tokens with finish_reason length and the exact count', async () => {
    const answer = await client.chat.completions.create(ask('one two three four five six seven eight nine ten eleven twelve', { max_tokens: 3 }));
    expect(answer.choices[0].finish_reason).toBe('length');
    expect(answer.usage?.completion_tokens).toBe(3);
    expect('one two three four five six seven eight nine ten eleven twelve'.startsWith(answer.choices[0].message.content ?? '-')).toBe(true);
  });

  it('cuts at a stop string', async () => {
    const answer = await client.chat.completions.create(ask('alpha beta STOP gamma', { stop: [' STOP'] }));
    expect(answer.choices[0].message.content).toBe('alpha beta');
    expect(answer.choices[0].finish_reason).toBe('stop');
  });

  it('lists the model, and refuses an over-long conversation with context_length_exceeded', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['qwen2.5']);
    const error = await client.chat.completions.create(ask('word '.repeat(3000))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ code: 'context_length_exceeded' });
  });

  it('reports a runner crash after the stream began as one error event, and serves again after the restart', async () => {
    writeFileSync(service.faultFile, JSON.stringify({ crashAfterTokens: 2 }));
    const stream = await client.chat.completions.create({ ...ask('this answer will be cut short by a crash'), stream: true });
    const error = await (async () => {
      for await (const _chunk of stream) {
        // consume until the error event
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ code: 'model_process_failed' });
    await service.waitForModel((s) => s.state === 'ready', 'the runner to be back');
    const answer = await client.chat.completions.create(ask('back again'));
    expect(answer.choices[0].message.content).toBe('back again');
  });
});

describe('OpenAI SDK against the real service: disconnects and a full queue', () => {
  let service: TestService;
  let client: OpenAI;
  const long = { model: 'qwen2.5', messages: [{ role: 'user' as const, content: 'a long answer that repeats' }] };

  beforeAll(async () => {
    // 20 ms per token: an answer filling the window takes ~20 s unless it is cancelled.
    service = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '20' }, configure: (c) => (c.model.queueMaxLength = 1) });
    client = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'x', maxRetries: 0 });
  });
  afterAll(() => service?.close());

  it('a client that disconnects mid-stream stops its generation, so the next request runs at once', async () => {
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 200 }));
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ ...long, stream: true }, { signal: controller.signal });
    let received = '';
    await (async () => {
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta.content ?? '';
        if (received.length > 10) controller.abort();
      }
    })().catch((e: unknown) => {
      if (!(e instanceof OpenAI.APIUserAbortError)) throw e;
    });
    const abortedAt = Date.now();
    await service.waitForModel((s) => s.state === 'ready' && s.queue.inFlight === 0, 'the cancelled generation to stop', 10000);
    // The whole answer would have taken ~20 s: Ctrl-C reached the runner.
    expect(Date.now() - abortedAt).toBeLessThan(5000);
    const next = await client.chat.completions.create({ model: 'qwen2.5', messages: [{ role: 'user', content: 'next, please' }] });
    expect(next.choices[0].message.content).toBe('next, please');
  });

  it('a full queue answers 429 with Retry-After (RateLimitError); non-streamed clients that leave cancel too', async () => {
    writeFileSync(service.faultFile, JSON.stringify({ repeat: 200 }));
    const running = new AbortController();
    const waiting = new AbortController();
    client.chat.completions.create(long, { signal: running.signal }).catch(() => undefined);
    await service.waitForModel((s) => s.state === 'busy', 'the first request to run');
    client.chat.completions.create(long, { signal: waiting.signal }).catch(() => undefined);
    await service.waitForModel((s) => s.queue.length === 1, 'the second request to wait in the queue');
    const error = await client.chat.completions.create({ model: 'qwen2.5', messages: [{ role: 'user', content: 'me too' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toMatch(/^\d+$/);

    waiting.abort();
    await service.waitForModel((s) => s.queue.length === 0, 'the waiting request to leave the queue', 5000);
    const abortedAt = Date.now();
    running.abort();
    await service.waitForModel((s) => s.state === 'ready' && s.queue.inFlight === 0, 'the cancelled generation to stop', 10000);
    expect(Date.now() - abortedAt).toBeLessThan(5000);
  });
});
