/**
 * The `ollama` npm client against the REAL service: HTTP API, tokenizer server process and the
 * runner emulator under node-pty, with the Ollama-port listener enabled. The emulator answers with
 * the text of the last user message, so the answer must equal exactly what was sent — through the
 * chat template, the prompt handle, byte-level decoding and NDJSON. Requires `npm run build`.
 */
import { TestService, freePort, startTestService } from '@qwen/testing';
import { Ollama } from 'ollama';

jest.setTimeout(60000);

describe('ollama npm client against the real service and the runner emulator', () => {
  let service: TestService;
  let ollama: Ollama;
  let ollamaPort: number;

  beforeAll(async () => {
    ollamaPort = await freePort();
    service = await startTestService({
      configure: (config) => {
        config.server.ollamaListener = { enabled: true, host: '127.0.0.1', port: ollamaPort };
      },
    });
    ollama = new Ollama({ host: service.url });
  });
  afterAll(() => service?.close());

  it.each([
    ['plain text', 'Hello there, how are you?'],
    ['Chinese', '你好，世界！今天天气怎么样？'],
    ['emoji', 'Rockets 🚀 and families 👨‍👩‍👧 ok'],
  ])('chat answers %s exactly, with measured counts and durations in nanoseconds', async (_what, text) => {
    const res = await ollama.chat({
      model: 'qwen2.5:1.5b',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: text },
      ],
    });
    expect(res.message).toEqual({ role: 'assistant', content: text });
    expect(res.done_reason).toBe('stop');
    expect(res.prompt_eval_count).toBeGreaterThan(5);
    expect(res.eval_count).toBeGreaterThan(0);
    expect(res.total_duration).toBeGreaterThanOrEqual(res.eval_duration);
    // At least a millisecond of work is visible, expressed in ns (a ms figure would be < 1e6).
    expect(res.total_duration).toBeGreaterThanOrEqual(1e6);
    expect(Number.isInteger(res.total_duration)).toBe(true);
  });

  it('chat streams the same text in several NDJSON pieces', async () => {
    const text = '流式 streaming ✓ works across pieces';
    const parts: string[] = [];
    let last: { done: boolean; done_reason: string; eval_count: number } | null = null;
    for await (const part of await ollama.chat({ model: 'qwen2.5', messages: [{ role: 'user', content: text }], stream: true })) {
      parts.push(part.message.content);
      last = part;
    }
    expect(parts.join('')).toBe(text);
    expect(parts.filter((p) => p !== '').length).toBeGreaterThan(1);
    expect(last).toEqual(expect.objectContaining({ done: true, done_reason: 'stop' }));
    expect(last!.eval_count).toBeGreaterThan(0);
  });

  it('generate answers the prompt, streamed or not', async () => {
    const single = await ollama.generate({ model: 'qwen2.5', prompt: 'Échos 🌊 and 海浪' });
    expect(single.response).toBe('Échos 🌊 and 海浪');
    let streamed = '';
    for await (const part of await ollama.generate({ model: 'qwen2.5', prompt: 'stream me please', stream: true })) streamed += part.response;
    expect(streamed).toBe('stream me please');
  });

  it('generate with raw sends the text as is (the emulator echoes a prompt without a user turn)', async () => {
    const res = await ollama.generate({ model: 'qwen2.5', prompt: 'raw text, no template', raw: true });
    expect(res.response).toBe('raw text, no template');
  });

  it('num_predict stops the answer at exactly that many tokens with done_reason length', async () => {
    const res = await ollama.chat({
      model: 'qwen2.5',
      messages: [{ role: 'user', content: 'one two three four five six seven eight nine ten eleven twelve' }],
      options: { num_predict: 4 },
    });
    expect(res.done_reason).toBe('length');
    expect(res.eval_count).toBe(4);
    expect(res.message.content.length).toBeGreaterThan(0);
    expect('one two three four five six seven eight nine ten eleven twelve'.startsWith(res.message.content)).toBe(true);
  });

  it('show reports the window and the sampling the runner printed at load; tags and ps list the loaded model', async () => {
    const show = await ollama.show({ model: 'qwen2.5' });
    expect((show.model_info as unknown as Record<string, unknown>)['qwen2.context_length']).toBe(service.model.snapshot().maxTokenLen);
    expect(service.model.snapshot().maxTokenLen).toBe(1024);
    expect(show.parameters).toMatch(/^temperature\s+0\.9$/m);
    expect(show.parameters).toMatch(/^top_k\s+10$/m);
    expect(show.parameters).not.toMatch(/^top_p/m);
    expect(show.template).toContain('<|im_start|>');
    const list = await ollama.list();
    expect(list.models).toHaveLength(1);
    expect(list.models[0].size).toBeGreaterThan(0); // the emulated model directory's placeholder model files
    const ps = await ollama.ps();
    expect(ps.models.map((m) => m.name)).toEqual([list.models[0].name]);
  });

  it('the Ollama-port listener serves the same API', async () => {
    expect(service.ollamaUrl).toBe(`http://127.0.0.1:${ollamaPort}`);
    const probe = await fetch(`${service.ollamaUrl}/`);
    expect(await probe.text()).toBe('Ollama is running');
    const onOllamaPort = new Ollama({ host: service.ollamaUrl! });
    expect(await onOllamaPort.version()).toEqual({ version: '0.6.4' });
    const res = await onOllamaPort.chat({ model: 'qwen2.5', messages: [{ role: 'user', content: 'via 11434 ✓' }] });
    expect(res.message.content).toBe('via 11434 ✓');
  });

  it('a request too long for the window is a 400 ResponseError', async () => {
    const long = 'word '.repeat(1500);
    await expect(ollama.generate({ model: 'qwen2.5', prompt: long, raw: true })).rejects.toMatchObject({
      name: 'ResponseError',
      status_code: 400,
      error: expect.stringContaining('maximum context length is 1024 tokens'),
    });
  });
});

describe('ollama npm client: a client that leaves stops its generation on the real runner', () => {
  let service: TestService;

  beforeAll(async () => {
    // Slow enough that the whole answer (20 repeats of the text) would take several seconds.
    service = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '25', QWEN_EMU_REPEAT: '20' } });
  });
  afterAll(() => service?.close());

  it('abort() mid-stream interrupts the runner, which is free again long before the full answer', async () => {
    const ollama = new Ollama({ host: service.url });
    const stream = await ollama.chat({ model: 'qwen2.5', messages: [{ role: 'user', content: 'a fairly long sentence to be repeated many times over' }], stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done ? '' : first.value.message.content).not.toBe('');
    expect(service.model.snapshot().state).toBe('busy');
    const abortedAt = Date.now();
    stream.abort();
    await expect(iterator.next()).rejects.toThrow();
    await service.waitForModel((s) => s.state === 'ready', 'the runner to be free after the abort', 3000);
    // 20 repeats x ~12 tokens x 25 ms ≈ 6 s: being ready within 3 s means the generation was stopped.
    expect(Date.now() - abortedAt).toBeLessThan(3000);
    const next = await ollama.chat({ model: 'qwen2.5', messages: [{ role: 'user', content: 'next' }], options: { num_predict: 1 } });
    expect(next.message.content.length).toBeGreaterThan(0);
  });
});
