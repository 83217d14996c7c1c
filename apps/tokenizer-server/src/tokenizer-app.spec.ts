import type { RegisterPromptResponse, RegistrationAnswer, TokenizerProcessMessage } from '@qwen/tokenizer';
import {
  chatTemplateRendererFor,
  PROMPT_HANDLE_PATTERN,
  PromptFitter,
  QWEN_UPSTREAM_SYSTEM_PROMPT,
  QwenTokenizer,
  resolveTokenizerFiles,
  runAllSteps,
  TokenByteTable,
} from '@qwen/tokenizer-engine';
import type { Clock } from '@qwen/supervision';
import type { RequestListener, ServerResponse } from 'node:http';
import request from 'supertest';
import { PromptRegistrations } from './prompt-registrations';
import { createTokenizerApp, type PromptFitting, startTokenizerServer, type TokenizerApp } from './tokenizer-app';

jest.setTimeout(30000);

describe(createTokenizerApp.name, () => {
  let tokenizer: QwenTokenizer;
  let tokens: TokenByteTable;
  let fitting: PromptFitting;
  let fitter: PromptFitter;
  let server: TokenizerApp;
  let sent: TokenizerProcessMessage[];
  let nextId: number;
  const clock: Pick<Clock, 'now'> & { time: number } = { time: 1_000, now: () => clock.time };
  const upstreamIds = (text: string, system = QWEN_UPSTREAM_SYSTEM_PROMPT) =>
    tokenizer.encode(`<|im_start|>system\n${system}<|im_end|>\n<|im_start|>user\n${text}<|im_end|>\n<|im_start|>assistant\n`);
  const progress = () => sent.filter((m) => m.type !== 'registered' && m.type !== 'refused' && m.type !== 'reported');

  /**
   * The service's `register` command, taken as the worker takes it (registration-worker.ts:
   * PromptRegistrations, the fit, the main thread's store) in this thread; resolves with the answer.
   */
  async function register(body: object, app: TokenizerApp = server): Promise<RegistrationAnswer> {
    const id = nextId++;
    let answer: RegistrationAnswer | undefined;
    const registrations: PromptRegistrations = new PromptRegistrations({
      fit: (fitId, request) => registrations.fitted(fitId, { result: runAllSteps(fitter.fitSteps(request)) }),
      store: (fitted) => registrations.stored(fitted.id, app.storePrompt(fitted)),
      answer: (given) => (answer = given),
      logError: () => undefined,
    });
    registrations.receive({ type: 'register', id, request: body });
    if (!answer) throw new Error('no answer to the register command');
    return answer;
  }

  async function registered(body: object, app: TokenizerApp = server): Promise<RegisterPromptResponse> {
    const answer = await register(body, app);
    if (answer.type !== 'registered') throw new Error(`refused: ${JSON.stringify(answer)}`);
    return answer.response;
  }

  /** The lines the worker thread encodes (registration-worker.ts), in this thread. */
  function fittingWith(defaultSystemPrompt: string | null): PromptFitting {
    const renderer = chatTemplateRendererFor(tokenizer, defaultSystemPrompt);
    return { encodeLine: async (text) => tokenizer.encode(renderer.renderSingleUserMessage(text)) };
  }

  beforeAll(() => {
    tokenizer = QwenTokenizer.load(resolveTokenizerFiles(null));
    tokens = new TokenByteTable(tokenizer.byteTable().tables);
    fitting = fittingWith(null);
    fitter = new PromptFitter(tokenizer, chatTemplateRendererFor(tokenizer, null));
  });
  beforeEach(() => {
    sent = [];
    nextId = 1;
    server = createTokenizerApp({ tokens, fitting, clock, handleTtlMs: 10_000, send: (message) => sent.push(message) });
  });

  it('answers /bos_id and /eos_id like the upstream server, as JSON with a length', async () => {
    const bos = await request(server.app).get('/bos_id').expect(200);
    expect(bos.text).toBe('{"bos_id":-1}');
    expect(bos.headers['content-type']).toMatch(/^application\/json/);
    expect(bos.headers['content-length']).toBe('13');
    const eos = await request(server.app).get('/eos_id').expect(200);
    expect(eos.body).toEqual({ eos_id: 151645 });
  });

  it('encodes any other text the upstream way, statelessly: the only user message after the default system prompt', async () => {
    const res = await request(server.app).post('/encode').send({ text: 'Hello' }).expect(200);
    const ids = upstreamIds('Hello');
    expect(res.body).toEqual({ token_ids: ids, tokens: ids, length: ids.length });
    expect(res.body.token_ids.slice(-9)).toEqual([151644, 872, 198, 9707, 151645, 198, 151644, 77091, 198]);
    const empty = await request(server.app).post('/encode').send({ text: '' }).expect(200);
    expect(empty.body.length).toBeGreaterThan(0);
    expect(sent).toEqual([{ type: 'unknown-line' }, { type: 'unknown-line' }]);
  });

  it('uses a configured default system prompt for typed text', async () => {
    const custom = createTokenizerApp({ tokens, fitting: fittingWith('Be terse.') });
    const res = await request(custom.app).post('/encode').send({ text: 'Hi' }).expect(200);
    expect(res.body.token_ids).toEqual(upstreamIds('Hi', 'Be terse.'));
  });

  it('registers a prompt, answers its handle once with the registered ids, then statelessly', async () => {
    const messages = [
      { role: 'system', content: 'Line one.\nLine two.' },
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2\nmore' },
    ];
    const response = await registered({ messages, contextWindow: 1024, maxTokens: 5 });
    const expectedIds = tokenizer.encode(
      '<|im_start|>system\nLine one.\nLine two.<|im_end|>\n<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n' +
        '<|im_start|>user\nQ2\nmore<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(response).toEqual({
      handle: expect.stringMatching(PROMPT_HANDLE_PATTERN),
      promptTokens: expectedIds.length,
      maxTokens: 5,
      droppedMessages: 0,
      expiresAt: 11_000,
    });
    const handle = response.handle;
    const first = await request(server.app).post('/encode').send({ text: handle }).expect(200);
    expect(first.body.token_ids).toEqual(expectedIds);
    expect(progress()).toEqual([{ type: 'turn-start', handle, promptTokens: expectedIds.length, printedTextReported: true }]);
    const again = await request(server.app).post('/encode').send({ text: handle }).expect(200);
    expect(again.body.token_ids).toEqual(upstreamIds(handle));
  });

  it('does not honour an expired or released handle', async () => {
    const expiring = await registered({ prompt: 'raw text', contextWindow: 100 });
    clock.time += 10_000;
    const res = await request(server.app).post('/encode').send({ text: expiring.handle }).expect(200);
    expect(res.body.token_ids).toEqual(upstreamIds(expiring.handle));
    clock.time = 1_000;
    const released = await registered({ prompt: 'raw text', contextWindow: 100 });
    await server.command({ type: 'release', handle: released.handle });
    const after = await request(server.app).post('/encode').send({ text: released.handle }).expect(200);
    expect(after.body.token_ids).toEqual(upstreamIds(released.handle));
  });

  it('streams /decode through the handle turn, cuts at maxTokens, reports the turn and sends progress and its end', async () => {
    const { handle } = await registered({ prompt: 'x', contextWindow: 100, maxTokens: 4 });
    await request(server.app).post('/encode').send({ text: `${handle}\r` }).expect(200);
    const ids = tokenizer.encode('你好世界，今天😀很好');
    const printed: string[] = [];
    for (let i = 0; i < ids.length; i += 3) {
      const res = await request(server.app).post('/decode').send({ token_ids: ids.slice(i, i + 3) }).expect(200);
      printed.push(res.body.text);
    }
    const final = await request(server.app).post('/decode').send({ tokens: ids }).expect(200);
    expect(final.body).toEqual({ text: tokenizer.decode(ids) }); // /decode keeps its contract, final call included
    expect(printed.join('')).toBe(tokenizer.decode(ids.slice(0, 4)));
    await server.command({ type: 'report', id: 99, handle });
    expect(sent.at(-1)).toEqual({
      type: 'reported',
      id: 99,
      report: { handle, promptTokens: 1, generatedIds: ids, decodeCalls: Math.ceil(ids.length / 3) + 1, limitReached: true, printedText: printed.join('') },
    });
    const tokenEvents = sent.filter((e) => e.type === 'tokens');
    expect(tokenEvents[0]).toEqual({ type: 'tokens', handle, generated: 3, limitReached: false });
    expect(tokenEvents[1]).toEqual({ type: 'tokens', handle, generated: 6, limitReached: true });
    expect(tokenEvents.at(-1)).toEqual({ type: 'tokens', handle, generated: ids.length, limitReached: true });
    expect(sent.filter((e) => e.type === 'turn-end')).toEqual([{ type: 'turn-end', handle, generatedIds: ids.length }]);
    // Exactly the printed chunks are reported as the text the runner prints (never the final call's).
    const reported = sent.filter((e): e is { type: 'printed-text'; handle: string; text: string } => e.type === 'printed-text');
    expect(reported.every((e) => e.handle === handle)).toBe(true);
    expect(reported.map((e) => e.text)).toEqual(printed.filter((text) => text.length > 0));
  });

  it('reports the text the runner will print before its /decode answer is written, so the report is never behind the terminal', async () => {
    const { handle } = await registered({ prompt: 'x', contextWindow: 100 });
    await request(server.app).post('/encode').send({ text: handle }).expect(200);
    const order: string[] = [];
    server = { ...server, app: answerWatched(server.app, () => order.push('answer written')) };
    const realSend = sent.push.bind(sent);
    sent.push = (...messages: TokenizerProcessMessage[]) => {
      for (const message of messages) order.push(message.type);
      return realSend(...messages);
    };
    const chunk = tokenizer.encode('Hello there, my friend').slice(0, 3); // a chunk of 3, as the runner sends while generating
    const res = await request(server.app).post('/decode').send({ token_ids: chunk }).expect(200);
    expect(res.body.text).toBe(tokenizer.decode(chunk));
    expect(order).toEqual(['printed-text', 'answer written', 'tokens']);
  });

  it('refuses with context_length_exceeded when the prompt cannot fit', async () => {
    expect(await register({ prompt: 'Hello world', contextWindow: 2 })).toEqual({
      type: 'refused',
      id: 1,
      error: { code: 'context_length_exceeded', message: expect.any(String), promptTokens: 2, contextWindow: 2 },
    });
  });

  it('registers tools, past calls and the assistant prefill: the runner gets them as prompt ids', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const messages = [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: '', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
      { role: 'tool', content: 'sunny' },
      { role: 'user', content: 'And Lyon?' },
    ];
    const { handle } = await registered({ messages, tools, assistantPrefill: '<tool_call>\n', contextWindow: 1024, answerReserve: 64 });
    const text = tokenizer.decode((await request(server.app).post('/encode').send({ text: handle }).expect(200)).body.token_ids);
    expect(text).toContain('<tools>\n{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}\n</tools>');
    expect(text).toContain('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>');
    expect(text).toContain('<tool_response>\nsunny\n</tool_response>');
    expect(text.endsWith('<|im_start|>assistant\n<tool_call>\n')).toBe(true);
  });

  it('refuses malformed tools, past calls, prefill and limits', async () => {
    const messages = [{ role: 'user', content: 'x' }];
    for (const bad of [
      { messages, contextWindow: 10, tools: [{ type: 'function' }] },
      { messages: [{ role: 'assistant', content: '', toolCalls: [{ name: 'f', arguments: '{}' }] }], contextWindow: 10 },
      { messages, contextWindow: 10, assistantPrefill: 3 },
      { prompt: 'raw', contextWindow: 10, assistantPrefill: '{' },
      { messages, contextWindow: 10, answerReserve: 0 },
      { messages, contextWindow: 10, promptBudget: 1.5 },
    ]) {
      expect(await register(bad)).toMatchObject({ type: 'refused', error: { code: 'invalid_request' } });
    }
  });

  it('refuses malformed registrations, and rejects malformed runner calls with 400 JSON errors', async () => {
    expect(await register({ contextWindow: 10 })).toMatchObject({ type: 'refused', error: { code: 'invalid_request' } });
    expect(await register({ prompt: 'x', contextWindow: 0 })).toMatchObject({ type: 'refused', error: { code: 'invalid_request' } });
    expect(await register({ messages: [{ role: 'wizard', content: 'x' }], contextWindow: 10 })).toMatchObject({ type: 'refused' });
    await request(server.app).post('/decode').send({ token_ids: ['a'] }).expect(400);
    const bad = await request(server.app).post('/encode').set('Content-Type', 'application/json').send('{not json').expect(400);
    expect(bad.body.error.code).toBe('invalid_request');
    await request(server.app).post('/encode').send({ text: 42 }).expect(400);
  });

  it('has no side door: registering, reading turns, templates and health are not on the port', async () => {
    for (const [method, path] of [
      ['post', '/prompts'],
      ['get', '/turns/qh-unknown'],
      ['post', '/chat_template'],
      ['get', '/health'],
      ['get', '/nope'],
    ] as const) {
      const res = await request(server.app)[method](path).send(method === 'post' ? {} : undefined).expect(404);
      expect(res.body.error.code).toBe('not_found');
    }
  });

  it('accepts only what the runner sends: loopback Host, no Origin, JSON bodies', async () => {
    const host = await request(server.app).get('/bos_id').set('Host', 'evil.example:12345').expect(403);
    expect(host.body.error.code).toBe('forbidden');
    await request(server.app).get('/bos_id').set('Host', 'localhost:12345').expect(200);
    await request(server.app).get('/bos_id').set('Host', '[::1]:12345').expect(200);
    await request(server.app).post('/decode').set('Origin', 'http://127.0.0.1:8080').send({ token_ids: [1] }).expect(403);
    await request(server.app).post('/decode').set('Sec-Fetch-Site', 'cross-site').send({ token_ids: [1] }).expect(403);
    const plain = await request(server.app).post('/decode').set('Content-Type', 'text/plain').send('{"token_ids":[1]}').expect(415);
    expect(plain.body.error.code).toBe('unsupported_media_type');
    await request(server.app).post('/decode').set('Content-Type', 'application/json; charset=latin1').send('{"token_ids":[1]}').expect(415);
    await request(server.app).post('/decode').set('Content-Encoding', 'gzip').send({ token_ids: [1] }).expect(415);
    await request(server.app).post('/decode').set('Content-Type', 'application/json; charset=utf-8').send('{"token_ids":[1]}').expect(200);
  });

  it('refuses bodies bigger than the runner ever sends, and texts longer than a terminal line, before encoding them', async () => {
    const encode = jest.spyOn(tokenizer, 'encode');
    await request(server.app).post('/encode').send({ text: 'x'.repeat(1_000_000) }).expect(413);
    await request(server.app).post('/encode').send({ text: 'x'.repeat(5_000) }).expect(400);
    expect(encode).not.toHaveBeenCalled();
    encode.mockRestore();
  });

  it('answers a foreign /decode outside any turn with its text, and lets it change no turn', async () => {
    const res = await request(server.app).post('/decode').send({ token_ids: tokenizer.encode('Hello there') }).expect(200);
    expect(res.body).toEqual({ text: 'Hello there' });
    expect(sent).toEqual([]);
  });

  it('lets only the runner\'s connections start or feed a turn: another local client gets stateless answers, the turn stays exact', async () => {
    let runnerCalling = true;
    const runner = { setRunner: jest.fn(), isRunner: () => runnerCalling };
    const guarded = createTokenizerApp({ tokens, fitting, clock, handleTtlMs: 10_000, runner, send: (message) => sent.push(message) });
    await guarded.command({ type: 'runner', pid: 4242 });
    expect(runner.setRunner).toHaveBeenCalledWith(4242);
    const { handle } = await registered({ prompt: 'x', contextWindow: 100, maxTokens: 50 }, guarded);

    runnerCalling = false; // a foreign client that somehow learnt the handle cannot start the turn
    const stolen = await request(guarded.app).post('/encode').send({ text: handle }).expect(200);
    expect(stolen.body.token_ids).toEqual(upstreamIds(handle));
    runnerCalling = true;
    await request(guarded.app).post('/encode').send({ text: handle }).expect(200);

    const answer = tokenizer.encode('The answer is exact.');
    const chunks: string[] = [];
    for (let i = 0; i < answer.length; i += 3) {
      runnerCalling = false; // a foreign /decode between every chunk: answered, not taken as a chunk
      const foreign = await request(guarded.app).post('/decode').send({ token_ids: [151645] }).expect(200);
      expect(foreign.body).toEqual({ text: '<|im_end|>' });
      const foreignEncode = await request(guarded.app).post('/encode').send({ text: 'hi' }).expect(200);
      expect(foreignEncode.body.token_ids).toEqual(upstreamIds('hi'));
      runnerCalling = true;
      chunks.push((await request(guarded.app).post('/decode').send({ token_ids: answer.slice(i, i + 3) }).expect(200)).body.text);
    }
    await request(guarded.app).post('/decode').send({ token_ids: answer }).expect(200);
    expect(chunks.join('')).toBe('The answer is exact.');
    await guarded.command({ type: 'report', id: 2, handle });
    expect(sent.at(-1)).toMatchObject({ type: 'reported', report: { generatedIds: answer, printedText: 'The answer is exact.' } });
    expect(sent.filter((m) => m.type === 'unknown-line')).toEqual([]);
    expect(sent.filter((m) => m.type === 'turn-start')).toHaveLength(1);
  });

  it('registers a large prompt (IPC has no HTTP body limit)', async () => {
    const long = 'word '.repeat(60_000);
    const response = await registered({ prompt: long, contextWindow: 200_000 });
    expect(response.promptTokens).toBe(tokenizer.encode(long).length);
  });
});

describe(startTokenizerServer.name, () => {
  it('listens, then sends the ready message with the real port and source', async () => {
    const sent: TokenizerProcessMessage[] = [];
    const tokens = new TokenByteTable({ offsets: new Uint32Array(1), bytes: new Uint8Array(0) });
    const fitting: PromptFitting = { encodeLine: async () => [] };
    const running = await startTokenizerServer({ tokens, fitting, source: 'model-dir', tokenizerDir: '/models/x', host: '127.0.0.1', port: 0, send: (m) => sent.push(m) });
    try {
      expect(sent).toEqual([{ type: 'ready', port: running.port, source: 'model-dir', tokenizerDir: '/models/x' }]);
      const res = await fetch(`http://127.0.0.1:${running.port}/eos_id`);
      expect(await res.json()).toEqual({ eos_id: 151645 });
    } finally {
      await running.close();
    }
  });
});

/** The listener, told when it writes an answer's end. */
function answerWatched(app: RequestListener, onEnd: () => void): RequestListener {
  return (req, res) => {
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      onEnd();
      return end(...args);
    }) as ServerResponse['end'];
    app(req, res);
  };
}
