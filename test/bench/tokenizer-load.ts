/**
 * The tokenizer server process alone, as the service forks it (IPC channel) and as the runner calls
 * it (HTTP): how fast the runner's calls stay while other clients' prompts are registered, how long
 * registrations take, and whether its memory stays flat across bursts (issue 12).
 */
import type { RegisterPromptRequest, TokenizerCommand, TokenizerProcessMessage } from '@qwen/tokenizer';
import { findInstallRoot } from '@qwen/config';
import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { freePort } from '../support/free-port';
import { rssMb } from './service-process';
import { fmt, median, percentile } from './stats';

type RowFn = (measure: string, service: string, direct: string, compared: string, target: string, ok: boolean | null) => void;

/** A history of `count` messages of about `bytes` in all, ending with a user message. */
function history(count: number, bytes: number): RegisterPromptRequest['messages'] {
  const each = Math.max(1, Math.floor(bytes / count) - 12);
  return Array.from({ length: count }, (_, i) => ({
    role: i % 2 === count % 2 ? 'assistant' : 'user',
    content: `${i}: ${'words and 中文 '.repeat(Math.ceil(each / 16)).slice(0, each)}`,
  }));
}

class TokenizerUnderTest {
  private nextId = 1;

  private constructor(
    readonly child: ChildProcess,
    readonly base: string,
  ) {}

  static async start(): Promise<TokenizerUnderTest> {
    const main = join(findInstallRoot(__dirname), 'dist', 'apps', 'tokenizer-server', 'src', 'main.js');
    const port = await freePort();
    const child = fork(main, ['--port', String(port)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the tokenizer server exited (${code})`)));
      const onMessage = (m: TokenizerProcessMessage) => m.type === 'ready' && (child.off('message', onMessage), resolve());
      child.on('message', onMessage);
    });
    return new TokenizerUnderTest(child, `http://127.0.0.1:${port}`);
  }

  register(request: RegisterPromptRequest): Promise<TokenizerProcessMessage> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const onMessage = (m: TokenizerProcessMessage) => {
        if (!('id' in m) || m.id !== id) return;
        this.child.off('message', onMessage);
        resolve(m);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'register', id, request } satisfies TokenizerCommand);
    });
  }

  rss(): number {
    return rssMb(this.child.pid ?? null);
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/**
 * The runner's side of a burst, on its own thread so the load generator's work (building and
 * sending megabytes of IPC) does not count as the tokenizer's latency: /decode and /bos_id in turn
 * until told to stop, then the latencies.
 */
const RUNNER_LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
let running = true;
const decode = [], bos = [];
parentPort.on('message', () => (running = false));
(async () => {
  let first = true;
  while (running) {
    for (const [path, into] of [['/decode', decode], ['/bos_id', bos]]) {
      const started = performance.now();
      const res = await fetch(workerData.base + path, path === '/decode'
        ? { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token_ids: [9707, 1879, 0] }) }
        : {});
      await res.json();
      if (res.status !== 200) throw new Error(path + ' answered ' + res.status);
      if (!first) into.push(performance.now() - started);
    }
    if (first) parentPort.postMessage('calling');
    first = false;
  }
  parentPort.postMessage({ decode, bos });
})();`;

/** 4 clients registering 100 KB / 200-message histories (5 each) and one 1 MB paste, while the runner calls. */
async function burst(tokenizer: TokenizerUnderTest): Promise<{ decode: number[]; bos: number[] }> {
  const runner = new Worker(RUNNER_LOOP, { eval: true, workerData: { base: tokenizer.base } });
  const calling = new Promise((resolve) => runner.once('message', resolve));
  const latencies = new Promise<{ decode: number[]; bos: number[] }>((resolve, reject) => {
    runner.on('message', (message) => message !== 'calling' && resolve(message));
    runner.once('error', reject);
  });
  await calling; // its connection and first round are not part of the measure
  const histories = Array.from({ length: 4 }, () => history(200, 100_000));
  const paste = 'x '.repeat(500_000);
  await Promise.all([
    ...histories.map(async (messages) => {
      for (let k = 0; k < 5; k++) await tokenizer.register({ messages, contextWindow: 1024, maxTokens: 200 });
    }),
    tokenizer.register({ messages: [{ role: 'user', content: paste }], contextWindow: 1024 }),
  ]);
  runner.postMessage('stop');
  const result = await latencies;
  await runner.terminate();
  return result;
}

export async function tokenizerUnderLoad(row: RowFn): Promise<void> {
  const tokenizer = await TokenizerUnderTest.start();
  try {
    for (const count of [20, 200, 2000]) {
      const bytes = count * 500;
      const times: number[] = [];
      for (let k = 0; k < 5; k++) {
        const started = performance.now();
        const answer = await tokenizer.register({ messages: history(count, bytes), contextWindow: 1024, maxTokens: 200 });
        if (answer.type !== 'registered') throw new Error(`registration of ${count} messages: ${answer.type}`);
        times.push(performance.now() - started);
      }
      const target = count === 200 ? '≤ 100 ms' : '(reported)';
      row(`7. registration, ${count} messages / ${fmt(bytes / 1000, 0)} KB`, `median ${fmt(median(times), 1)} ms, max ${fmt(Math.max(...times), 1)} ms`, '—', '', target, count === 200 ? median(times) <= 100 : null);
    }
    const idle = tokenizer.rss();
    const after: number[] = [];
    let worst = { decode: [] as number[], bos: [] as number[] };
    for (let k = 0; k < 3; k++) {
      const result = await burst(tokenizer);
      if (k === 0) worst = result;
      after.push(tokenizer.rss());
    }
    for (const [name, values] of [['/decode', worst.decode], ['/bos_id', worst.bos]] as const) {
      const p99 = percentile(values, 99);
      const max = Math.max(...values);
      row(
        `8. runner ${name} under 4 registering clients + a 1 MB paste`,
        `p50 ${fmt(median(values), 1)} / p99 ${fmt(p99, 1)} / max ${fmt(max, 1)} ms (${values.length} calls)`,
        '—',
        '',
        'p99 ≤ 20 ms, max ≤ 100 ms',
        p99 <= 20 && max <= 100,
      );
    }
    row(
      '9. tokenizer RSS across 3 bursts',
      `idle ${fmt(idle, 1)} MB → ${after.map((m) => fmt(m, 1)).join(' → ')} MB`,
      '—',
      `${fmt(after[2] - after[0], 1)} MB from burst 1 to 3`,
      '≤ +10 MB',
      after[2] - after[0] <= 10,
    );
  } finally {
    await tokenizer.stop();
  }
}
