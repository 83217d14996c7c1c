import request from 'supertest';
import type { Clock } from '../core/clock';
import { PROMPT_HANDLE_PATTERN } from '../core/prompt-handle-store';
import { QwenTokenizer } from '../core/qwen-tokenizer';
import { resolveTokenizerFiles } from '../core/tokenizer-files';
import { QWEN_UPSTREAM_SYSTEM_PROMPT, type TokenizerEvent } from '../tokenizer.contract';
import { createTokenizerApp, startTokenizerServer, type TokenizerApp } from './tokenizer-app';

describe(createTokenizerApp.name, () => {
  let tokenizer: QwenTokenizer;
  let server: TokenizerApp;
  let events: TokenizerEvent[];
  const clock: Clock & { time: number } = { time: 1_000, now: () => clock.time };
  const upstreamIds = (text: string, system = QWEN_UPSTREAM_SYSTEM_PROMPT) =>
    tokenizer.encode(`<|im_start|>system\n${system}<|im_end|>\n<|im_start|>user\n${text}<|im_end|>\n<|im_start|>assistant\n`);

  beforeAll(() => {
    tokenizer = QwenTokenizer.load(resolveTokenizerFiles(null));
  });
  beforeEach(() => {
    events = [];
    server = createTokenizerApp({ tokenizer, clock, handleTtlMs: 10_000, events: (event) => events.push(event) });
  });

  it('answers /bos_id and /eos_id like the upstream server, as JSON with a length', async () => {
    const bos = await request(server.app).get('/bos_id').expect(200);
    expect(bos.text).toBe('{"bos_id":-1}');
    expect(bos.headers['content-type']).toMatch(/^application\/json/);
    expect(bos.headers['content-length']).toBe('13');
    const eos = await request(server.app).get('/eos_id').expect(200);
    expect(eos.body).toEqual({ eos_id: 151645 });
  });

  it('encodes any other text the upstream way: the only user message after the default system prompt', async () => {
    const res = await request(server.app).post('/encode').send({ text: 'Hello' }).expect(200);
    const ids = upstreamIds('Hello');
    expect(res.body).toEqual({ token_ids: ids, tokens: ids, length: ids.length });
    expect(res.body.token_ids.slice(-9)).toEqual([151644, 872, 198, 9707, 151645, 198, 151644, 77091, 198]);
    const empty = await request(server.app).post('/encode').send({ text: '' }).expect(200);
    expect(empty.body.length).toBeGreaterThan(0);
    expect(events).toEqual([]);
  });

  it('uses a configured default system prompt for typed text', async () => {
    const custom = createTokenizerApp({ tokenizer, defaultSystemPrompt: 'Be terse.' });
    const res = await request(custom.app).post('/encode').send({ text: 'Hi' }).expect(200);
    expect(res.body.token_ids).toEqual(upstreamIds('Hi', 'Be terse.'));
  });

  it('registers a prompt, answers its handle once with the registered ids, then falls back', async () => {
    const messages = [
      { role: 'system', content: 'Line one.\nLine two.' },
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2\nmore' },
    ];
    const registered = await request(server.app).post('/prompts').send({ messages, contextWindow: 1024, maxTokens: 5 }).expect(200);
    const expectedIds = tokenizer.encode(
      '<|im_start|>system\nLine one.\nLine two.<|im_end|>\n<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n' +
        '<|im_start|>user\nQ2\nmore<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(registered.body).toEqual({
      handle: expect.stringMatching(PROMPT_HANDLE_PATTERN),
      promptTokens: expectedIds.length,
      maxTokens: 5,
      droppedMessages: 0,
      expiresAt: 11_000,
    });
    const handle: string = registered.body.handle;
    const first = await request(server.app).post('/encode').send({ text: handle }).expect(200);
    expect(first.body.token_ids).toEqual(expectedIds);
    expect(events).toEqual([{ type: 'turn-start', handle, promptTokens: expectedIds.length }]);
    const again = await request(server.app).post('/encode').send({ text: handle }).expect(200);
    expect(again.body.token_ids).toEqual(upstreamIds(handle));
  });

  it('does not honour an expired handle', async () => {
    const { body } = await request(server.app).post('/prompts').send({ prompt: 'raw text', contextWindow: 100 }).expect(200);
    clock.time += 10_000;
    const res = await request(server.app).post('/encode').send({ text: body.handle }).expect(200);
    expect(res.body.token_ids).toEqual(upstreamIds(body.handle));
    clock.time = 1_000;
  });

  it('streams /decode through the handle turn, cuts at maxTokens, reports the turn and sends token events', async () => {
    const { body } = await request(server.app).post('/prompts').send({ prompt: 'x', contextWindow: 100, maxTokens: 4 }).expect(200);
    await request(server.app).post('/encode').send({ text: `${body.handle}\r` }).expect(200);
    const ids = tokenizer.encode('你好世界，今天😀很好');
    const printed: string[] = [];
    for (let i = 0; i < ids.length; i += 3) {
      const res = await request(server.app).post('/decode').send({ token_ids: ids.slice(i, i + 3) }).expect(200);
      printed.push(res.body.text);
    }
    const final = await request(server.app).post('/decode').send({ tokens: ids }).expect(200);
    expect(final.body).toEqual({ text: '' });
    expect(printed.join('')).toBe(tokenizer.decode(ids.slice(0, 4)));
    const report = await request(server.app).get(`/turns/${body.handle}`).expect(200);
    expect(report.body).toEqual({
      handle: body.handle,
      promptTokens: 1,
      generatedIds: ids,
      decodeCalls: Math.ceil(ids.length / 3) + 1,
      limitReached: true,
      printedText: printed.join(''),
    });
    const tokenEvents = events.filter((e) => e.type === 'tokens');
    expect(tokenEvents[0]).toEqual({ type: 'tokens', handle: body.handle, generated: 3, limitReached: false });
    expect(tokenEvents[1]).toEqual({ type: 'tokens', handle: body.handle, generated: 6, limitReached: true });
    expect(tokenEvents.at(-1)).toEqual({ type: 'tokens', handle: body.handle, generated: ids.length, limitReached: true });
  });

  it('answers 400 context_length_exceeded when the prompt cannot fit', async () => {
    const res = await request(server.app).post('/prompts').send({ prompt: 'Hello world', contextWindow: 2 }).expect(400);
    expect(res.body).toEqual({
      error: { code: 'context_length_exceeded', message: expect.any(String), promptTokens: 2, contextWindow: 2 },
    });
  });

  it('rejects malformed requests with 400 JSON errors', async () => {
    await request(server.app).post('/prompts').send({ contextWindow: 10 }).expect(400);
    await request(server.app).post('/prompts').send({ prompt: 'x', contextWindow: 0 }).expect(400);
    await request(server.app).post('/prompts').send({ messages: [{ role: 'wizard', content: 'x' }], contextWindow: 10 }).expect(400);
    await request(server.app).post('/decode').send({ token_ids: ['a'] }).expect(400);
    const bad = await request(server.app).post('/encode').set('Content-Type', 'application/json').send('{not json').expect(400);
    expect(bad.body.error.code).toBe('invalid_request');
    await request(server.app).post('/encode').send({ text: 42 }).expect(400);
  });

  it('answers 404 JSON for an unknown turn and an unknown path', async () => {
    const res = await request(server.app).get('/turns/qh-unknown').expect(404);
    expect(res.body.error.code).toBe('not_found');
    await request(server.app).get('/nope').expect(404);
  });

  it('renders /chat_template and reports /health with the source', async () => {
    const res = await request(server.app)
      .post('/chat_template')
      .send({ messages: [{ role: 'developer', content: 'S' }, { role: 'user', content: [{ type: 'text', text: 'Hi' }] }] })
      .expect(200);
    expect(res.body).toEqual({ prompt: '<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n' });
    const health = await request(server.app).get('/health').expect(200);
    expect(health.body).toEqual({ status: 'ok', source: 'npm-package' });
  });

  it('accepts a large registered prompt (body limit beyond the default 100kb)', async () => {
    const long = 'word '.repeat(60_000);
    const res = await request(server.app).post('/prompts').send({ prompt: long, contextWindow: 200_000 }).expect(200);
    expect(res.body.promptTokens).toBe(tokenizer.encode(long).length);
  });
});

describe(startTokenizerServer.name, () => {
  it('listens, then sends the ready event with the real port and source', async () => {
    const events: TokenizerEvent[] = [];
    const tokenizer = QwenTokenizer.load(resolveTokenizerFiles(null));
    const running = await startTokenizerServer({ tokenizer, host: '127.0.0.1', port: 0, events: (e) => events.push(e) });
    try {
      expect(events).toEqual([{ type: 'ready', port: running.port, source: 'npm-package', tokenizerDir: tokenizer.files?.dir }]);
      const res = await fetch(`http://127.0.0.1:${running.port}/eos_id`);
      expect(await res.json()).toEqual({ eos_id: 151645 });
    } finally {
      await running.close();
    }
  });
});
