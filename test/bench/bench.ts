/**
 * `npm run bench`: the service against the runner DIRECTLY, side by side, in one run (issue 8).
 *
 * The real service (HTTP API, tokenizer server process, runner emulator under node-pty) runs in this
 * process; next to it, a second emulator is driven directly through its own pty (DirectRunner: the
 * service's tokenizer server registers the prompt, the handle is typed, ReplFramer reads the text).
 * Requests alternate service / direct with the same prompts, so both see the same machine noise,
 * and every figure is a ratio or a difference measured in the same run. Memory and the
 * 200-client burst use the service as its own process (`node dist/apps/qwen-chat/src/main.js`).
 *
 * Prints a markdown table (pasted into docs/benchmarks.md). Exits non-zero only when it could not
 * run. Only 127.0.0.1 is contacted.
 */
import 'reflect-metadata';
import { RUNNER_WORK_DIR, RunnerProcess, RunnerSpawnOptions } from '@qwen/model';
import { TokenizerBridge } from '@qwen/tokenizer';
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEmulatedModelDir } from '../../scripts/make-emulated-model';
import { startTestService, TestService } from '../support/service-harness';
import { DirectRunner, DirectTurn, TimedChunk } from './direct-runner';
import { BenchClient, ServiceTurn } from './http-client';
import { ServiceProcess } from './service-process';
import { fmt, median, percentile, sum } from './stats';
import { measurePromptTokens, promptTokenTable } from './prompt-tokens';
import { tokenizerUnderLoad } from './tokenizer-load';

const HARD_LIMIT_MS = 10 * 60 * 1000;

interface Row {
  measure: string;
  service: string;
  direct: string;
  compared: string;
  target: string;
  verdict: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const problems: string[] = [];

function row(measure: string, service: string, direct: string, compared: string, target: string, ok: boolean | null): void {
  rows.push({ measure, service, direct, compared, target, verdict: ok === null ? '—' : ok ? 'met' : '**missed**' });
  process.stderr.write(`  ${measure}: service ${service} | direct ${direct} | ${compared}\n`);
}

// ------------------------------------------------------------------ service-side pty timestamps

/**
 * Every pty data event of the SERVICE's runner, timestamped before ModelService sees it: the
 * runner handle's onData is wrapped so our stamp is taken first, in the same process as the SSE client.
 */
let servicePtyDir: string | null = null;
let servicePty: TimedChunk[] | null = null;
const originalSpawn = RunnerProcess.prototype.spawn;
RunnerProcess.prototype.spawn = async function spawn(this: RunnerProcess, options: RunnerSpawnOptions) {
  const handle = await originalSpawn.call(this, options);
  if (options.cwd !== servicePtyDir) return handle;
  const onData = handle.onData.bind(handle);
  handle.onData = (listener) =>
    onData((chunk) => {
      servicePty?.push({ at: performance.now(), text: chunk });
      listener(chunk);
    });
  return handle;
};

/**
 * The text the service's tokenizer reported it gave the runner to print (`printed-text` over IPC),
 * timestamped on arrival in the service. A chunk may reach the client only once both the terminal
 * showed it and this report came: the later of the two sets its release.
 */
let serviceReports: TimedChunk[] | null = null;

// ------------------------------------------------------------------ helpers

const conversation = (content: string) => [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content },
];

/** Positions (in answer characters) reached by each pty chunk of one turn: text up to the first `\n` or ESC. */
function ptyMarks(chunks: TimedChunk[]): { at: number; pos: number }[] {
  const marks: { at: number; pos: number }[] = [];
  let pos = 0;
  for (const chunk of chunks) {
    const stop = chunk.text.search(/[\n\x1b]/);
    const text = stop >= 0 ? chunk.text.slice(0, stop) : chunk.text;
    pos += text.length;
    if (text.length > 0) marks.push({ at: chunk.at, pos });
    if (stop >= 0 && pos > 0) break;
  }
  return marks;
}

/** Positions (in answer characters) reached by each timed piece of answer text. */
function textMarks(chunks: TimedChunk[]): { at: number; pos: number }[] {
  let pos = 0;
  return chunks.map((chunk) => ({ at: chunk.at, pos: (pos += chunk.text.length) }));
}

/**
 * For each runner chunk, how long the tokenizer's `printed-text` report came AFTER the terminal
 * showed that text (0 when it came first): the part of the chunk latency spent waiting for the
 * tokenizer process, which the service cannot shorten.
 */
function reportWaits(pty: TimedChunk[], reports: TimedChunk[]): number[] {
  const reported = textMarks(reports);
  const out: number[] = [];
  let j = 0;
  for (const mark of ptyMarks(pty)) {
    while (j < reported.length && reported[j].pos < mark.pos) j++;
    if (j < reported.length) out.push(Math.max(0, reported[j].at - mark.at));
  }
  return out;
}

/** For each runner chunk, the time until the client had received text up to the same position. */
function chunkLatencies(pty: TimedChunk[], client: TimedChunk[]): number[] {
  const out: number[] = [];
  let j = 0;
  let received = 0;
  for (const mark of ptyMarks(pty)) {
    while (j < client.length && received < mark.pos) received += client[j++].text.length;
    if (received >= mark.pos && j > 0) out.push(client[j - 1].at - mark.at);
  }
  return out;
}

function checkAnswer(what: string, got: string, expected: string): void {
  if (got !== expected && problems.length < 20) problems.push(`${what}: expected ${JSON.stringify(expected.slice(0, 60))}, got ${JSON.stringify(got.slice(0, 60))}`);
}

async function serviceTurn(client: BenchClient, content: string, stream: boolean, expected = content): Promise<{ turn: ServiceTurn; pty: TimedChunk[]; reports: TimedChunk[] }> {
  servicePty = [];
  serviceReports = [];
  const turn = await client.chat(conversation(content), stream);
  const pty = servicePty;
  const reports = serviceReports;
  servicePty = serviceReports = null;
  if (turn.status !== 200) throw new Error(`the service answered ${turn.status}: ${JSON.stringify(turn.error)}`);
  checkAnswer('service', turn.text, expected);
  return { turn, pty, reports };
}

async function directTurn(direct: DirectRunner, content: string, expected = content): Promise<DirectTurn> {
  const turn = await direct.ask(conversation(content));
  checkAnswer('direct', turn.text, expected);
  return turn;
}

interface Pair {
  service: TestService;
  direct: DirectRunner;
  client: BenchClient;
  /** The emulators' one-off fault files (QWEN_EMU_FAULT_FILE): `{"repeat": n}` lengthens the next answer. */
  serviceFaultFile: string;
  directFaultFile: string;
  close(): Promise<void>;
}

/** The in-process service and a direct runner with the same emulator speed, sharing the service's tokenizer server. */
async function startPair(tokenMs: number, promptTokenMs: number): Promise<Pair> {
  const emulatorEnv = { QWEN_EMU_TOKEN_MS: String(tokenMs), QWEN_EMU_PROMPT_TOKEN_MS: String(promptTokenMs), QWEN_EMU_LOAD_MS: '0' };
  const service = await startTestService({
    emulatorEnv,
    logger: ['error'],
    configure: (c) => {
      // The supervisor starts the runner in its own work directory under the run directory.
      servicePtyDir = resolve(c.paths.runDir, RUNNER_WORK_DIR);
      c.model.queueMaxLength = 64;
    },
  });
  const directRoot = mkdtempSync(join(tmpdir(), 'qwen-bench-direct-'));
  const directDir = await createEmulatedModelDir({ target: join(directRoot, 'model') });
  const directFaultFile = join(directRoot, 'fault.json');
  const direct = await DirectRunner.start({
    modelDir: directDir,
    tokenizerUrl: service.app.get(TokenizerBridge).runnerUrl(),
    tokenizer: {
      register: (request) => service.app.get(TokenizerBridge).register(request),
      runnerStarted: (pid) => service.app.get(TokenizerBridge).runnerStarted(pid),
      servicePid: () => service.model.snapshot().pid,
    },
    env: { ...emulatorEnv, QWEN_EMU_FAULT_FILE: directFaultFile },
    logFile: join(directRoot, 'direct.log'),
  });
  const client = new BenchClient(service.url);
  // Subscribed before any turn: each report is stamped before the turn in flight sees it.
  const reports = service.app.get(TokenizerBridge).progress$.subscribe((progress) => {
    if (progress.type === 'printed-text') serviceReports?.push({ at: performance.now(), text: progress.text });
  });
  return {
    service,
    direct,
    client,
    serviceFaultFile: service.faultFile,
    directFaultFile,
    async close() {
      reports.unsubscribe();
      client.close();
      await direct.stop();
      await service.close();
      rmSync(directRoot, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ the measures

async function timeToFirstToken(pair: Pair, tokenMs: number, pairs: number): Promise<void> {
  const svc: number[] = [];
  const dir: number[] = [];
  for (let i = 0; i < pairs + 2; i++) {
    const content = `ttft probe number ${i}`;
    const s = (await serviceTurn(pair.client, content, true)).turn;
    const d = await directTurn(pair.direct, content);
    if (i < 2) continue; // warm-up
    svc.push(s.firstTextAt! - s.startedAt);
    dir.push(d.firstTextAt! - d.startedAt);
  }
  // Each service request is paired with a direct one sent right after it (same prompt, same moment):
  // the median of the pair differences is the added time with the machine's common noise removed.
  const diffs = svc.map((v, k) => v - dir[k]);
  const added = median(diffs);
  row(
    `1. TTFT at ${tokenMs} ms/token, p50 (n=${pairs} pairs)`,
    `${fmt(median(svc))} ms`,
    `${fmt(median(dir))} ms`,
    `added: median of pair differences ${fmt(added)} ms (difference of medians ${fmt(median(svc) - median(dir))} ms)`,
    '≤ 5 ms added',
    added <= 5,
  );
  row(`1. TTFT at ${tokenMs} ms/token, p99 (n=${pairs} pairs)`, `${fmt(percentile(svc, 99))} ms`, `${fmt(percentile(dir, 99))} ms`, `difference of p99s ${fmt(percentile(svc, 99) - percentile(dir, 99))} ms`, '—', null);
}

/** `runs` streamed answers of `words` × 3 words, the emulator repeating the message `repeat` times (a long answer after a short prompt). */
async function streaming(pair: Pair, tokenMs: number, runs: number, words: number, repeat = 1): Promise<void> {
  const content = 'stream test word '.repeat(words);
  const expected = content.repeat(repeat);
  const ratios: number[] = [];
  const serviceRates: number[] = [];
  const runnerRates: number[] = [];
  const directRates: number[] = [];
  const latencies: number[] = [];
  const waits: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (repeat > 1) writeFileSync(pair.serviceFaultFile, JSON.stringify({ repeat }));
    const { turn, pty, reports } = await serviceTurn(pair.client, content, true, expected);
    const marks = ptyMarks(pty);
    if (marks.length === 0) throw new Error(`the service's runner output was not observed (runner work directory ${servicePtyDir})`);
    const tokens = turn.completionTokens ?? Number.NaN;
    const runnerSpan = marks[marks.length - 1].at - marks[0].at;
    const clientSpan = turn.chunks[turn.chunks.length - 1].at - turn.chunks[0].at;
    // Both spans run from the first to the last text chunk: the same tokens, seen at the pty and at the client.
    runnerRates.push((tokens / runnerSpan) * 1000);
    serviceRates.push((tokens / clientSpan) * 1000);
    ratios.push(runnerSpan / clientSpan);
    latencies.push(...chunkLatencies(pty, turn.chunks));
    waits.push(...reportWaits(pty, reports));
    if (repeat > 1) writeFileSync(pair.directFaultFile, JSON.stringify({ repeat }));
    const d = await directTurn(pair.direct, content, expected);
    const dSpan = d.chunks[d.chunks.length - 1].at - d.chunks[0].at;
    directRates.push((tokens / dSpan) * 1000);
  }
  const ratio = median(ratios);
  row(
    `2. streaming pass-through at ${tokenMs} ms/token (${runs} answers of ~${words * 3 * repeat} tokens)`,
    `${fmt(median(serviceRates), 1)} tok/s at the SSE client`,
    `${fmt(median(directRates), 1)} tok/s (direct pty)`,
    `client ÷ runner = ${fmt(ratio, 3)} (runner at the service's pty: ${fmt(median(runnerRates), 1)} tok/s)`,
    '≥ 0.99',
    ratio >= 0.99,
  );
  row(
    `3. chunk latency runner print → client at ${tokenMs} ms/token (${latencies.length} chunks)`,
    `p50 ${fmt(median(latencies), 3)} ms, p99 ${fmt(percentile(latencies, 99), 3)} ms`,
    '—',
    `max ${fmt(Math.max(...latencies), 3)} ms`,
    '≤ 2 ms p99',
    percentile(latencies, 99) <= 2,
  );
  const late = waits.filter((w) => w > 0);
  row(
    `3. of which waiting for the tokenizer's printed-text report at ${tokenMs} ms/token`,
    `report after the terminal text for ${late.length} of ${waits.length} chunks`,
    '—',
    `wait p50 ${fmt(median(waits), 3)} ms, p99 ${fmt(percentile(waits, 99), 3)} ms, max ${fmt(Math.max(0, ...waits), 3)} ms`,
    '(reported)',
    null,
  );
}

async function nonStreaming(pair: Pair, pairs: number): Promise<void> {
  const svc: number[] = [];
  const dir: number[] = [];
  for (let i = 0; i < pairs + 5; i++) {
    const content = `non-streamed request ${i}`;
    const s = (await serviceTurn(pair.client, content, false)).turn;
    const d = await directTurn(pair.direct, content);
    if (i < 5) continue;
    svc.push(s.endedAt - s.startedAt);
    dir.push(d.endedAt - d.startedAt);
  }
  const rpsS = (svc.length / sum(svc)) * 1000;
  const rpsD = (dir.length / sum(dir)) * 1000;
  row(`4. non-streamed at 0 ms/token: requests/s (n=${pairs}, one at a time)`, fmt(rpsS, 1), fmt(rpsD, 1), `service ÷ direct = ${fmt(rpsS / rpsD, 3)}`, '—', null);
  row(
    `4. non-streamed at 0 ms/token: latency p50 / p99`,
    `${fmt(median(svc))} / ${fmt(percentile(svc, 99))} ms`,
    `${fmt(median(dir))} / ${fmt(percentile(dir, 99))} ms`,
    `+${fmt(median(svc) - median(dir))} ms at p50, +${fmt(percentile(svc, 99) - percentile(dir, 99))} ms at p99`,
    '—',
    null,
  );
}

interface BurstResult {
  served: number;
  refused: number;
  unexpected: string[];
  inOrder: boolean;
  queueAfter: number;
  queuedSample: { service: number; tokenizer: number; queue: number } | null;
}

/**
 * 200 clients, all open at once at the end (the queue holds `queueMax` behind the one generating).
 * Arrival order is made certain: client i+1 is sent only once the service has counted client i
 * (GET /health: queue length + in flight, plus the answers already received, reaches i+1), so
 * "served in arrival order" tests the service's FIFO, not the network's.
 */
async function burst(service: ServiceProcess, client: BenchClient, tag: string): Promise<BurstResult> {
  const order: number[] = [];
  const unexpected: string[] = [];
  let served = 0;
  let refused = 0;
  let queuedSample: BurstResult['queuedSample'] = null;
  const requests: Promise<void>[] = [];
  for (let i = 0; i < 200; i++) {
    requests.push(
      client.chat(conversation(`${tag} client ${i}`), false).then((turn) => {
        if (turn.status === 200) {
          served += 1;
          order.push(i);
          if (turn.text !== `${tag} client ${i}`) unexpected.push(`client ${i} got ${JSON.stringify(turn.text.slice(0, 40))}`);
        } else if (turn.status === 429 && turn.error?.code === 'queue_full') refused += 1;
        else unexpected.push(`client ${i}: ${turn.status} ${JSON.stringify(turn.error)}`);
      }),
    );
    const deadline = Date.now() + 10000;
    for (;;) {
      const { queue } = (await service.health()).details;
      if (!queuedSample && queue.length >= 64) queuedSample = { ...(await service.memory()), queue: queue.length };
      if (queue.length + queue.inFlight + served + refused + unexpected.length >= i + 1) break;
      if (Date.now() > deadline) throw new Error(`client ${i} was not counted by the service within 10 s`);
    }
  }
  await Promise.all(requests);
  const queueAfter = (await service.health()).details.queue.length;
  return { served, refused, unexpected, inOrder: order.every((v, k) => k === 0 || v > order[k - 1]), queueAfter, queuedSample };
}

const mb = (m: { service: number; tokenizer: number }) => `service ${fmt(m.service, 1)} + tokenizer ${fmt(m.tokenizer, 1)} = ${fmt(m.service + m.tokenizer, 1)} MB`;

const IDLE_RSS_TARGET_MB = 200;

async function memoryAndBurst(): Promise<void> {
  // 10 ms per token: a short answer holds the runner for a few tens of ms, so the burst really queues.
  const queueMax = 100;
  const service = await ServiceProcess.start({ QWEN_EMU_TOKEN_MS: '10', QWEN_EMU_PROMPT_TOKEN_MS: '0', QWEN_QUEUE_MAX: String(queueMax) });
  const client = new BenchClient(service.url, 512);
  try {
    const fresh = await service.memory();
    for (let i = 0; i < 30; i++) checkAnswer('warm-up', (await client.chat(conversation(`warm-up ${i}`), i % 2 === 0)).text, `warm-up ${i}`);
    const idle = await service.memory();
    // Issue 12: the service and its tokenizer at idle in at most 200 MB together.
    row('5. RSS at idle, fresh start', mb(fresh), '—', '', '≤ 200 MB together', fresh.service + fresh.tokenizer <= IDLE_RSS_TARGET_MB);
    row('5. RSS at idle, after 30 requests', mb(idle), '—', '', '≤ 200 MB together', idle.service + idle.tokenizer <= IDLE_RSS_TARGET_MB);

    // Three bursts: memory is flat when a burst leaves each process no larger than the previous one did.
    const bursts: BurstResult[] = [];
    const after: { service: number; tokenizer: number }[] = [];
    for (const tag of ['first', 'second', 'third']) {
      bursts.push(await burst(service, client, tag));
      after.push(await settledMemory(service));
    }
    const sample = bursts.find((b) => b.queuedSample)?.queuedSample;
    if (sample) row(`5. RSS with ${sample.queue} clients queued`, mb(sample), '—', '', '(reported)', null);
    bursts.forEach((b, k) => {
      row(
        `6. 200 concurrent clients, burst ${k + 1} (queue limit ${queueMax})`,
        `${b.served} served, ${b.refused} × 429 queue_full, ${b.unexpected.length} other`,
        '—',
        `served in arrival order: ${b.inOrder ? 'yes' : 'NO'}; queue afterwards: ${b.queueAfter}`,
        'arrival order; only 429 beyond the limit',
        b.inOrder && b.unexpected.length === 0 && b.served + b.refused === 200 && b.queueAfter === 0,
      );
      problems.push(...b.unexpected.slice(0, 5));
    });
    after.forEach((m, k) => row(`6. RSS idle after burst ${k + 1}`, mb(m), '—', `${signed(m.service + m.tokenizer - idle.service - idle.tokenizer)} MB vs idle before the bursts`, '(reported)', null));
    // One reading swings by tens of MB with the garbage collector; a leak accumulates. Flat: the third
    // burst leaves each process no larger than the first burst did (or than idle before), + 10 MB.
    const serviceGrowth = after[2].service - Math.max(after[0].service, idle.service);
    const tokenizerGrowth = after[2].tokenizer - Math.max(after[0].tokenizer, idle.tokenizer);
    row(
      '6. after burst 3 vs the larger of idle-before and after burst 1',
      `service ${signed(serviceGrowth)} MB, tokenizer ${signed(tokenizerGrowth)} MB`,
      '—',
      '',
      'flat (≤ +10 MB each)',
      serviceGrowth <= 10 && tokenizerGrowth <= 10,
    );
  } finally {
    client.close();
    await service.stop();
  }
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : ''}${fmt(value, 1)}`;
}

/** Resident sizes once the service is idle again: sampled twice a second for 3 s, the last kept. */
async function settledMemory(service: ServiceProcess): Promise<{ service: number; tokenizer: number }> {
  let m = await service.memory();
  for (let k = 0; k < 6; k++) {
    await new Promise((resolve) => setTimeout(resolve, 500)); // a sampling period, not synchronisation
    m = await service.memory();
  }
  return m;
}

// ------------------------------------------------------------------ main

const ALL_PHASES = [1, 2, 3, 4, 5] as const;

/**
 * The phases to run: all of them, or those named by `--phases 1,4` (for working on one measure; the
 * published figures come from a whole run).
 */
function selectedPhases(argv: string[]): Set<number> {
  const at = argv.indexOf('--phases');
  if (at < 0) return new Set(ALL_PHASES);
  const wanted = (argv[at + 1] ?? '').split(',').map(Number);
  if (wanted.length === 0 || wanted.some((n) => !(ALL_PHASES as readonly number[]).includes(n))) {
    throw new Error(`--phases takes a comma-separated list of ${ALL_PHASES.join(', ')}, got "${argv[at + 1] ?? ''}"`);
  }
  return new Set(wanted);
}

function machine(): string {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? 'unknown CPU';
  let kernel = '';
  try {
    kernel = execSync('uname -sr', { encoding: 'utf8' }).trim();
  } catch {
    kernel = process.platform;
  }
  return `${model}, ${cpus().length} cores, ${kernel}, Node ${process.version}, ${new Date().toISOString()}`;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const guard = setTimeout(() => {
    process.stderr.write('bench: exceeded its 10-minute bound\n');
    process.exit(2);
  }, HARD_LIMIT_MS);
  guard.unref();
  const host = machine();
  const phases = selectedPhases(process.argv.slice(2));
  process.stderr.write(`bench on ${host}${phases.size < ALL_PHASES.length ? ` (phases ${[...phases].join(', ')} only)` : ''}\n`);

  if (phases.has(1)) {
    process.stderr.write('phase 1: 0 ms/token (service in-process + direct pty runner)\n');
    const fast = await startPair(0, 0);
    try {
      await timeToFirstToken(fast, 0, 100);
      await streaming(fast, 0, 7, 150);
      await nonStreaming(fast, 100);
    } finally {
      await fast.close();
    }
  }

  if (phases.has(2)) {
    process.stderr.write('phase 2: 70 ms/token, prompt tokens too (the card\'s pace)\n');
    const card = await startPair(70, 70);
    try {
      await timeToFirstToken(card, 70, 20);
      await streaming(card, 70, 3, 5, 14);
    } finally {
      await card.close();
    }
  }

  if (phases.has(3)) {
    process.stderr.write('phase 3: the service as its own process: memory and 200 clients\n');
    await memoryAndBurst();
  }

  if (phases.has(4)) {
    process.stderr.write('phase 4: the tokenizer server alone: runner calls under heavy registrations\n');
    await tokenizerUnderLoad(row);
  }

  if (phases.has(5)) {
    process.stderr.write('phase 5: prompt tokens of tool requests (Home Assistant Assist, weather tool)\n');
    notes.push(...promptTokenTable(measurePromptTokens(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tools'))));
  }

  const lines = [
    `Machine: ${host}. Wall time: ${fmt((Date.now() - t0) / 1000, 0)} s.`,
    '',
    '| measure | service | direct | compared | target | verdict |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.measure} | ${r.service} | ${r.direct} | ${r.compared} | ${r.target} | ${r.verdict} |`),
  ];
  if (problems.length > 0) lines.push('', 'Wrong answers / unexpected statuses:', ...problems.map((p) => `- ${p}`));
  lines.push(...notes);
  process.stdout.write(`${lines.join('\n')}\n`);
  clearTimeout(guard);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench: could not run: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
