/**
 * The shipped HAProxy pool (deploy/haproxy/qwen-pool.cfg, rendered with this test's loopback ports)
 * in front of three REAL service instances, each with its own tokenizer server and runner emulator,
 * driven by a real haproxy (Debian's /usr/sbin/haproxy) in the foreground.
 * Requires `npm run build` (the tokenizer server and the emulator run from dist/) and haproxy.
 */
import { ModelSnapshot } from '@qwen/model';
import { freePort, startTestService, TestService } from '@qwen/testing';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subscription } from 'rxjs';
import { runnerStarts, until } from '../drills/drill-support';
import { ProxyProcess, renderShippedConfig } from './proxy-support';

jest.setTimeout(90000);

const SHIPPED = 'deploy/haproxy/qwen-pool.cfg';
const EXAMPLE_INSTANCES = ['192.168.1.11:8080', '192.168.1.12:8080', '192.168.1.13:8080'];
const SERVER_NAMES = ['pi1', 'pi2', 'pi3'];

/** What one instance's model service went through, from its own snapshots. */
interface InstanceRecord {
  /** The most requests the instance held at once (waiting in its own queue + generating). */
  maxHeld: number;
  /** [busy from, ready again at] per turn. */
  turns: Array<[number, number | null]>;
}

/** One row of HAProxy's CSV statistics (`/stats;csv`). */
type StatsRow = Record<string, string>;

describe('HAProxy pool of three instances (deploy/haproxy/qwen-pool.cfg)', () => {
  const instances: TestService[] = [];
  const records: InstanceRecord[] = [];
  const subscriptions: Subscription[] = [];
  let haproxy: ProxyProcess;
  let workDir: string;
  let poolUrl: string;
  let statsUrl: string;

  beforeAll(async () => {
    // 30 ms per generated token: an answer of ~15 tokens holds its instance for ~0.5 s.
    instances.push(...(await Promise.all([0, 1, 2].map(() => startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '30' } })))));
    for (const instance of instances) {
      const record: InstanceRecord = { maxHeld: 0, turns: [] };
      records.push(record);
      subscriptions.push(instance.model.snapshots$.subscribe((s) => observe(record, s)));
    }
    workDir = mkdtempSync(join(tmpdir(), 'qwen-haproxy-'));
    const poolPort = await freePort();
    const statsPort = await freePort();
    const config = renderShippedConfig(SHIPPED, [
      ['bind :8080', `bind 127.0.0.1:${poolPort}`],
      ['bind 127.0.0.1:8404', `bind 127.0.0.1:${statsPort}`],
      ...EXAMPLE_INSTANCES.map((example, i): [string, string] => [example, new URL(instances[i].url).host]),
      // The test runs as whichever user runs jest and reads HAProxy's log on its stdout.
      [/^ {4}(user|group) haproxy\n/gm, ''],
      ['log /dev/log local0', 'log stdout format raw local0'],
    ]);
    const configFile = join(workDir, 'haproxy.cfg');
    writeFileSync(configFile, config);
    haproxy = ProxyProcess.start('haproxy', '/usr/sbin/haproxy', ['-db', '-f', configFile], workDir);
    poolUrl = `http://127.0.0.1:${poolPort}`;
    statsUrl = `http://127.0.0.1:${statsPort}/stats;csv`;
    await haproxy.waitForHttp(`${poolUrl}/pool/ready`, 200);
    await until(async () => (await serverStates()).every((state) => state === 'UP'), 'HAProxy to see the three instances up', 15000);
  });

  afterAll(async () => {
    for (const subscription of subscriptions) subscription.unsubscribe();
    await haproxy?.stop();
    for (const instance of instances) await instance.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  function observe(record: InstanceRecord, s: ModelSnapshot): void {
    record.maxHeld = Math.max(record.maxHeld, s.queue.length + s.queue.inFlight);
    const open = record.turns.at(-1);
    if (s.state === 'busy' && (!open || open[1] !== null)) record.turns.push([Date.now(), null]);
    if (s.state !== 'busy' && open && open[1] === null) open[1] = Date.now();
  }

  async function stats(): Promise<StatsRow[]> {
    const text = await (await fetch(statsUrl)).text();
    const [header, ...lines] = text.trim().split('\n');
    const names = header.replace(/^# /, '').split(',');
    return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [names[i], value])));
  }

  /** HAProxy's view of pi1..pi3 in the generation backend: UP, DOWN, "UP 1/2"… */
  async function serverStates(): Promise<string[]> {
    const rows = await stats();
    return SERVER_NAMES.map((name) => rows.find((r) => r.pxname === 'qwen_generate' && r.svname === name)?.status ?? 'missing');
  }

  async function ask(content: string): Promise<{ status: number; content: string | null }> {
    const res = await fetch(`${poolUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen2.5', messages: [{ role: 'user', content }] }),
    });
    const body = (await res.json()) as { choices?: { message: { content: string } }[] };
    return { status: res.status, content: body.choices?.[0]?.message.content ?? null };
  }

  function modelLog(instance: TestService): string {
    const file = join(instance.logDir, 'model.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Which instances' runners printed `text` (model.log holds each runner's raw output). */
  function servedBy(text: string, logsBefore: string[]): number[] {
    return instances.flatMap((instance, i) => (modelLog(instance).slice(logsBefore[i].length).includes(text) ? [i] : []));
  }

  it('spreads nine concurrent requests: every instance serves one at a time, every answer is its own', async () => {
    const logsBefore = instances.map(modelLog);
    // ~40 tokens each (~1.2 s of generation): all nine reach HAProxy while the first three run.
    const questions = Array.from(
      { length: 9 },
      (_, i) => `pool question ${'ABCDEFGHI'[i]}: what does the work of one instance look like today, and how long does it take to answer a question of this length?`,
    );
    const answers = await Promise.all(questions.map(ask));

    expect(answers).toEqual(questions.map((content) => ({ status: 200, content })));
    // HAProxy's own counters: never more than one session at a time on any instance (smax), all
    // three used, the rest held in HAProxy's queue (qmax of the backend).
    const rows = await stats();
    const servers = SERVER_NAMES.map((name) => rows.find((r) => r.pxname === 'qwen_generate' && r.svname === name)!);
    expect(servers.map((r) => r.smax)).toEqual(['1', '1', '1']);
    expect(servers.reduce((sum, r) => sum + Number(r.stot), 0)).toBe(9);
    for (const r of servers) expect(Number(r.stot)).toBeGreaterThanOrEqual(1);
    expect(Number(rows.find((r) => r.pxname === 'qwen_generate' && r.svname === 'BACKEND')!.qmax)).toBeGreaterThanOrEqual(6);
    // The instances' own view: never a second request while one was held (nothing waited in an
    // instance's own queue), turns of one instance never overlap, and each answer was generated by exactly one runner.
    for (const record of records) {
      expect(record.maxHeld).toBe(1);
      for (let t = 1; t < record.turns.length; t++) expect(record.turns[t][0]).toBeGreaterThanOrEqual(record.turns[t - 1][1]!);
    }
    // model.log is appended asynchronously: wait until every answer is in one of them.
    await until(async () => questions.every((q) => servedBy(q, logsBefore).length > 0), 'every answer in a model.log', 5000);
    const owners = questions.map((q) => servedBy(q, logsBefore));
    for (const owner of owners) expect(owner).toHaveLength(1);
    // pi1..pi3 are instances 0..2: what each runner generated is what HAProxy sent it.
    expect([0, 1, 2].map((i) => owners.filter(([o]) => o === i).length)).toEqual(servers.map((r) => Number(r.stot)));
  });

  it('a client that leaves through HAProxy stops its generation: Ctrl-C reaches that instance runner', async () => {
    // Every instance would answer the next request with a 200-fold repeat (~12 s of tokens).
    for (const instance of instances) writeFileSync(instance.faultFile, JSON.stringify({ repeat: 200 }));
    const startsBefore = instances.map(runnerStarts);
    const logsBefore = instances.map(modelLog);
    const leaving = new AbortController();
    const res = await fetch(`${poolUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen2.5', messages: [{ role: 'user', content: 'a long answer I will not wait for. ' }], stream: true }),
      signal: leaving.signal,
    });
    expect(res.status).toBe(200);
    // Chunks flow through HAProxy as they are generated: read until the answer has begun to repeat.
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    while ((received.match(/"content":"/g) ?? []).length < 20) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended early: ${received}`);
      received += decoder.decode(value, { stream: true });
    }
    const serving = instances.findIndex((instance) => instance.model.snapshot().state === 'busy');
    expect(serving).toBeGreaterThanOrEqual(0);
    leaving.abort();
    const abortedAt = Date.now();
    await instances[serving].waitForModel((s) => s.state === 'ready' && s.queue.inFlight === 0, 'the abandoned generation to stop', 10000);
    // The whole answer needs ~200 x 8 tokens x 30 ms ≈ 48 s: the runner was interrupted, not killed.
    expect(Date.now() - abortedAt).toBeLessThan(4000);
    expect(instances.map(runnerStarts)).toEqual(startsBefore);
    // The runner ended the turn itself (its footer) after far fewer than the 200 repeats.
    const turnLog = () => modelLog(instances[serving]).slice(logsBefore[serving].length);
    await until(async () => turnLog().includes('hit eos'), "the runner's end-of-turn footer in model.log", 5000);
    expect(turnLog().split('a long answer I will not wait for.').length - 1).toBeLessThan(100);
    for (const instance of instances) if (existsSync(instance.faultFile)) unlinkSync(instance.faultFile);
  });

  it('a client that leaves while queued in HAProxy never reaches an instance', async () => {
    // Three long answers keep the three instances busy (~36 s each unless stopped).
    for (const instance of instances) writeFileSync(instance.faultFile, JSON.stringify({ repeat: 150 }));
    const logsBefore = instances.map(modelLog);
    const holders = [0, 1, 2].map(() => new AbortController());
    const held = holders.map((holder, i) =>
      fetch(`${poolUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'qwen2.5', messages: [{ role: 'user', content: `holding an instance ${i}. ` }], stream: true }),
        signal: holder.signal,
      }).then(
        // Read to the end (or the abort below): the instance generates as long as the client is there.
        async (res) => {
          for await (const chunk of res.body!) void chunk;
        },
        () => undefined,
      ).catch(() => undefined),
    );
    for (const instance of instances) await instance.waitForModel((s) => s.state === 'busy', 'every instance to be busy', 10000);
    // Model lists and health are not generations: they are answered while every card is busy.
    expect((await fetch(`${poolUrl}/v1/models`)).status).toBe(200);
    expect((await fetch(`${poolUrl}/api/tags`)).status).toBe(200);
    const leaving = new AbortController();
    const queued = fetch(`${poolUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen2.5', messages: [{ role: 'user', content: 'I leave the pool queue' }] }),
      signal: leaving.signal,
    }).catch((e: unknown) => (e as Error).name);
    const backendQueue = async () => Number((await stats()).find((r) => r.pxname === 'qwen_generate' && r.svname === 'BACKEND')!.qcur);
    await until(async () => (await backendQueue()) === 1, 'the request to wait in HAProxy queue', 5000);
    leaving.abort();
    expect(await queued).toBe('AbortError');
    // abortonclose: HAProxy drops it from its queue while every instance is still busy.
    await until(async () => (await backendQueue()) === 0, 'HAProxy to drop the abandoned request from its queue', 5000);
    expect(instances.map((instance) => instance.model.snapshot().state)).toEqual(['busy', 'busy', 'busy']);
    for (const holder of holders) holder.abort();
    await Promise.all(held);
    for (const instance of instances) await instance.waitForModel((s) => s.state === 'ready' && s.queue.inFlight === 0, 'every instance to be idle', 10000);
    expect(instances.some((instance, i) => modelLog(instance).slice(logsBefore[i].length).includes('I leave the pool queue'))).toBe(false);
    expect((await stats()).find((r) => r.pxname === 'qwen_generate' && r.svname === 'BACKEND')!.qcur).toBe('0');
  });

  it.each(['/admin/reload', '/ADMIN/reload', '/Admin/shutdown'])('POST %s through the pool is refused (403) and reaches no instance', async (path) => {
    const res = await fetch(`${poolUrl}${path}`, { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } });
    for (const instance of instances) expect(instance.model.snapshot()).toMatchObject({ state: 'ready', loads: 1 });
  });

  it('an instance whose card dies leaves the pool; the remaining requests are served by the others', async () => {
    const dying = 1;
    // The next request that reaches pi2 kills its device after 2 tokens ("device 1 is dead").
    writeFileSync(instances[dying].faultFile, JSON.stringify({ deviceDeadAfterTokens: 2 }));
    const logsBefore = instances.map(modelLog);
    const questions = Array.from({ length: 6 }, (_, i) => `question ${'UVWXYZ'[i]} while a card dies: who answers me now?`);
    const answers = await Promise.all(questions.map(ask));

    // The request on the dying card failed before its answer started: HAProxy sent it again elsewhere.
    expect(answers).toEqual(questions.map((content) => ({ status: 200, content })));
    expect(instances[dying].model.snapshot().deviceDead).toBe(true);
    // HAProxy's log of that request: answered 200 by another instance after a retry ("+1": redispatched).
    const retried = / qwen_generate\/pi[13] \S+ 200 \d+ - - \S+ \d+\/\d+\/\d+\/\d+\/\+[12] \d+\/\d+ "POST \/v1\/chat\/completions /;
    await until(() => retried.test(haproxy.log()), "a request retried on another instance in HAProxy's log", 5000);
    await until(async () => (await serverStates())[dying].startsWith('DOWN'), 'HAProxy to take pi2 out of the pool', 15000);
    const ready = await fetch(`${instances[dying].url}/health/ready`);
    expect(ready.status).toBe(503);
    for (const q of questions) expect(servedBy(q, logsBefore).filter((i) => i !== dying)).toHaveLength(1);

    // Out of the pool: the next requests go to the two others only; the pool itself is still ready.
    const deadLog = modelLog(instances[dying]);
    const later = Array.from({ length: 4 }, (_, i) => `later question ${i + 1} after pi2 died`);
    expect(await Promise.all(later.map(ask))).toEqual(later.map((content) => ({ status: 200, content })));
    expect(modelLog(instances[dying])).toBe(deadLog);
    expect((await fetch(`${poolUrl}/pool/ready`)).status).toBe(200);
    expect(await serverStates()).toEqual(['UP', expect.stringMatching(/^DOWN/), 'UP']);
  });
});
