/**
 * The tokenizer server process alone, as the service forks it (TokenizerProcess: IPC channel and
 * registration pipe) and as the runner calls it (HTTP): how fast the runner's calls stay while other clients' prompts are registered, how long
 * registrations take, and whether its memory stays flat across bursts (issue 12).
 */
import { type RegisterPromptRequest, type TokenizerChild, TokenizerProcess, type TokenizerProcessMessage } from '@qwen/tokenizer';
import { findInstallRoot } from '@qwen/config';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
  private readonly waiting = new Map<number, (answer: TokenizerProcessMessage) => void>();

  private constructor(
    readonly child: TokenizerChild,
    readonly port: number,
    private readonly logDir: string,
  ) {
    child.onMessage((message) => {
      const answer = message as TokenizerProcessMessage;
      if (!('id' in answer)) return;
      this.waiting.get(answer.id)?.(answer);
      this.waiting.delete(answer.id);
    });
  }

  static async start(): Promise<TokenizerUnderTest> {
    const root = findInstallRoot(__dirname);
    const port = await freePort();
    const logDir = mkdtempSync(join(tmpdir(), 'tokenizer-bench-'));
    // Started as the service starts it (TokenizerProcess): the same V8 and glibc settings, the same channels.
    const child = new TokenizerProcess().start({
      kind: 'fork',
      command: join(root, 'dist', 'apps', 'tokenizer-server', 'src', 'main.js'),
      args: ['--port', String(port)],
      cwd: root,
      logFile: join(logDir, 'tokenizer.log'),
    });
    await new Promise<void>((resolve, reject) => {
      child.onExit((exit) => reject(new Error(`the tokenizer server exited (${exit.code ?? exit.signal}): ${child.lastOutputLine() ?? ''}`)));
      child.onMessage((m) => (m as TokenizerProcessMessage).type === 'ready' && resolve());
    });
    return new TokenizerUnderTest(child, port, logDir);
  }

  /** A registration, over the registration channel as the service sends it. */
  register(request: RegisterPromptRequest): Promise<TokenizerProcessMessage> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      if (!this.child.register({ type: 'register', id, request })) reject(new Error('the tokenizer server has no registration channel'));
    });
  }

  rss(): number {
    return rssMb(this.child.pid ?? null);
  }

  /** The resident size once idle again: sampled twice a second for 3 s, the last kept (as bench.ts's settledMemory). */
  async settledRss(): Promise<number> {
    for (let k = 0; k < 6; k++) await new Promise((resolve) => setTimeout(resolve, 500)); // a sampling period, not synchronisation
    return this.rss();
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.onExit(resolve));
    this.child.kill('SIGTERM');
    await exited;
    rmSync(this.logDir, { recursive: true, force: true });
  }
}

/**
 * The runner's side of the bursts, on its own thread so the load generator's work (building and
 * sending megabytes of IPC) does not count as the tokenizer's latency. Like the runner's cpp-httplib
 * client (runner-protocol.md): node:http, a new connection per call (`Connection: close`), JSON bodies.
 * It calls /decode and /bos_id in turn while a burst runs ('start' … 'stop'), and gives all the
 * latencies at 'report'.
 */
const RUNNER_LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const { request } = require('node:http');
const { performance } = require('node:perf_hooks');
const decode = [], bos = [];
let running = false;
const body = JSON.stringify({ token_ids: [9707, 1879, 0] });
function call(method, path, payload) {
  return new Promise((resolve, reject) => {
    const headers = { Connection: 'close', Accept: '*/*' };
    if (payload) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
    const req = request({ host: '127.0.0.1', port: workerData.port, method, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(path + ' answered ' + res.statusCode))));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
async function loop() {
  while (running) {
    for (const [method, path, payload, into] of [['POST', '/decode', body, decode], ['GET', '/bos_id', undefined, bos]]) {
      const started = performance.now();
      await call(method, path, payload);
      into.push(performance.now() - started);
    }
  }
  parentPort.postMessage('stopped');
}
parentPort.on('message', async (message) => {
  if (message === 'start') {
    await call('GET', '/bos_id'); // warm: the first call of a thread is not the tokenizer's latency
    running = true;
    parentPort.postMessage('calling');
    loop();
  } else if (message === 'stop') running = false;
  else if (message === 'report') parentPort.postMessage({ decode, bos });
});`;

/** Registrations per history client in a burst: long enough for a few hundred runner calls. */
const REGISTRATIONS_PER_CLIENT = 25;

/** The runner's loop (RUNNER_LOOP) on its own thread. */
class RunnerCalls {
  private readonly worker: Worker;

  constructor(port: number) {
    this.worker = new Worker(RUNNER_LOOP, { eval: true, workerData: { port } });
  }

  private next<T>(command: string, answer?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onMessage = (message: T) => {
        if (answer !== undefined && message !== answer) return;
        this.worker.off('message', onMessage);
        this.worker.off('error', reject);
        resolve(message);
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', reject);
      this.worker.postMessage(command);
    });
  }

  start = () => this.next<void>('start', 'calling');
  stop = () => this.next<void>('stop', 'stopped');
  report = () => this.next<{ decode: number[]; bos: number[] }>('report');
  close = () => this.worker.terminate();
}

/**
 * 4 clients registering 100 KB / 200-message histories (REGISTRATIONS_PER_CLIENT each, one after the
 * other) and one 1 MB paste, while the runner calls.
 */
async function burst(tokenizer: TokenizerUnderTest, runner: RunnerCalls): Promise<void> {
  const histories = Array.from({ length: 4 }, () => history(200, 100_000));
  const paste = 'x '.repeat(500_000);
  await runner.start();
  await Promise.all([
    ...histories.map(async (messages) => {
      for (let k = 0; k < REGISTRATIONS_PER_CLIENT; k++) await tokenizer.register({ messages, contextWindow: 1024, maxTokens: 200 });
    }),
    tokenizer.register({ messages: [{ role: 'user', content: paste }], contextWindow: 1024 }),
  ]);
  await runner.stop();
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
    const idle = await tokenizer.settledRss();
    const after: number[] = [];
    const runner = new RunnerCalls(tokenizer.port);
    let calls: { decode: number[]; bos: number[] };
    try {
      for (let k = 0; k < 3; k++) {
        await burst(tokenizer, runner);
        after.push(await tokenizer.settledRss());
      }
      calls = await runner.report();
    } finally {
      await runner.close();
    }
    for (const [name, values] of [['/decode', calls.decode], ['/bos_id', calls.bos]] as const) {
      const p99 = percentile(values, 99);
      const max = Math.max(...values);
      row(
        `8. runner ${name} under 4 registering clients + a 1 MB paste (3 bursts)`,
        `p50 ${fmt(median(values), 1)} / p99 ${fmt(p99, 1)} / max ${fmt(max, 1)} ms (${values.length} calls)`,
        '—',
        '',
        'p99 ≤ 20 ms, max ≤ 100 ms',
        p99 <= 20 && max <= 100,
      );
    }
    row(
      '9. tokenizer RSS across 3 bursts (idle 3 s after each)',
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
