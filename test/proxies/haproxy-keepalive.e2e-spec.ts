/**
 * Keep-alive comments through the shipped HAProxy pool (deploy/haproxy/qwen-pool.cfg) with a short
 * `timeout server` (3 s instead of 11 min, to show in seconds what a 60 s proxy read timeout does in
 * minutes): a streamed request that waits in an instance's queue behind a long answer survives
 * because the instance sends a progress comment every 300 ms (a wide margin on a busy machine); the same setup with comments rarer
 * than the timeout loses the stream. Two real service instances (emulators), one haproxy each.
 * Requires `npm run build` and haproxy (/usr/sbin/haproxy).
 */
import { freePort, startTestService, TestService } from '@qwen/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../drills/drill-support';
import { ProxyProcess, renderShippedConfig } from './proxy-support';

jest.setTimeout(120000);

const SHIPPED = 'deploy/haproxy/qwen-pool.cfg';
const EXAMPLE_INSTANCES = ['192.168.1.11:8080', '192.168.1.12:8080', '192.168.1.13:8080'];
/** The proxy's read timeout in this test. */
const PROXY_SILENCE_LIMIT = '3s';

/** One instance behind its own haproxy. */
interface PoolOfOne {
  instance: TestService;
  haproxy: ProxyProcess;
  poolUrl: string;
}

/** How a streamed answer through the proxy ended. */
interface StreamOutcome {
  status: number;
  content: string;
  comments: number;
  done: boolean;
  /** The body broke off (the proxy closed it) instead of ending. */
  broken: boolean;
}

describe('Keep-alive comments through HAProxy (deploy/haproxy/qwen-pool.cfg, timeout server 3 s)', () => {
  let workDir: string;
  let withComments: PoolOfOne;
  let withoutComments: PoolOfOne;

  async function poolOfOne(name: string, progressIntervalMs: number): Promise<PoolOfOne> {
    // 40 ms per token, prompt and answer: the answer ahead holds the card for several seconds.
    const instance = await startTestService({ emulatorEnv: { QWEN_EMU_TOKEN_MS: '40' }, configure: (c) => (c.model.progressIntervalMs = progressIntervalMs) });
    const poolPort = await freePort();
    const statsPort = await freePort();
    const config = renderShippedConfig(SHIPPED, [
      ['bind :8080', `bind 127.0.0.1:${poolPort}`],
      ['bind 127.0.0.1:8404', `bind 127.0.0.1:${statsPort}`],
      // Every server line of the example pool is this one instance.
      ...EXAMPLE_INSTANCES.map((example): [string, string] => [example, new URL(instance.url).host]),
      ['timeout server 11m', `timeout server ${PROXY_SILENCE_LIMIT}`],
      [/^ {4}(user|group) haproxy\n/gm, ''],
      ['log /dev/log local0', 'log stdout format raw local0'],
    ]);
    const configFile = join(workDir, `${name}.cfg`);
    writeFileSync(configFile, config);
    const haproxy = ProxyProcess.start(`haproxy (${name})`, '/usr/sbin/haproxy', ['-db', '-f', configFile], workDir);
    const poolUrl = `http://127.0.0.1:${poolPort}`;
    await haproxy.waitForHttp(`${poolUrl}/pool/ready`, 200, 20000);
    return { instance, haproxy, poolUrl };
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'qwen-haproxy-keepalive-'));
    // One after the other: two model loads at once are slow on a busy machine.
    withComments = await poolOfOne('comments', 300);
    withoutComments = await poolOfOne('no-comments', 60000);
  });

  afterAll(async () => {
    for (const pool of [withComments, withoutComments]) {
      await pool?.haproxy.stop();
      await pool?.instance.close();
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** Holds the instance with a long non-streamed answer, sent to the instance itself (not through the proxy); resolves with its status. */
  function holdInstance(pool: PoolOfOne): Promise<number | string> {
    const content = 'a long answer that keeps this card busy for a while '.repeat(8).trim();
    return fetch(`${pool.instance.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen2.5', messages: [{ role: 'user', content }] }),
    }).then(
      async (res) => {
        await res.arrayBuffer();
        return res.status;
      },
      (error: unknown) => (error as Error).message,
    );
  }

  /** Streams `content` through the proxy; reads until the body ends or breaks off. */
  async function streamThroughProxy(pool: PoolOfOne, content: string): Promise<StreamOutcome> {
    const res = await fetch(`${pool.poolUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen2.5', messages: [{ role: 'user', content }], stream: true }),
    });
    const outcome: StreamOutcome = { status: res.status, content: '', comments: 0, done: false, broken: false };
    let text = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString('utf8');
    } catch {
      outcome.broken = true;
    }
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) outcome.comments += 1;
      else if (line === 'data: [DONE]') outcome.done = true;
      else if (line.startsWith('data: {')) {
        const chunk = JSON.parse(line.slice(6)) as { choices?: Array<{ delta: { content?: string } }> };
        outcome.content += chunk.choices?.[0]?.delta.content ?? '';
      }
    }
    return outcome;
  }

  it('a streamed request queued behind a long answer survives the proxy read timeout thanks to the comments', async () => {
    const held = holdInstance(withComments);
    await withComments.instance.waitForModel((s) => s.queue.inFlight === 1, 'the long answer to reach the runner');
    const outcome = await streamThroughProxy(withComments, 'still here after the wait');
    expect(outcome).toMatchObject({ status: 200, content: 'still here after the wait', done: true, broken: false });
    // It waited several proxy timeouts long: only the comments crossed the silence.
    expect(outcome.comments).toBeGreaterThan(4);
    expect(await held).toBe(200);
  });

  it('without comments within the timeout, the same wait loses the stream', async () => {
    const held = holdInstance(withoutComments);
    await withoutComments.instance.waitForModel((s) => s.queue.inFlight === 1, 'the long answer to reach the runner');
    const outcome = await streamThroughProxy(withoutComments, 'this answer never arrives');
    // The headers and the first comment passed; then 3 s of silence and HAProxy cut the stream.
    expect(outcome.status).toBe(200);
    expect(outcome.done).toBe(false);
    expect(outcome.content).toBe('');
    expect(outcome.comments).toBe(1);
    // HAProxy's log line of that session (written when it closes): the server side timed out (sD) or closed (SD) during the data phase.
    await until(async () => /qwen_generate\/pi\d .* (sD|SD)/.test(withoutComments.haproxy.log()), 'HAProxy to log the server timeout (sD)', 5000);
    expect(await held).toBe(200);
  });
});
