/**
 * The runner emulator, driven exactly like the service drives the real `main_axcl_*`: through a
 * pseudo-terminal (node-pty), from the model directory, with the upstream flags, against an HTTP
 * tokenizer (a fake one here, which records every call). Requires `npm run build`.
 */
import { upstreamRunnerArgs, upstreamModelFiles } from '@qwen/model';
import { chmodSync, existsSync, statSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { createEmulatedModelDir } from '../scripts/make-emulated-model';

const ESC = '\x1b';
const EOS = 151645;
const PROMPT = '>> ';

function record(level: string, colour: number, fn: string, line: number, text: string): string {
  return `${ESC}[1;30;3${colour}m[${level}][${fn.padStart(32)}][${String(line).padStart(4)}]: ${text}${ESC}[0m\n`;
}
const footerPattern = new RegExp(`\n\n${ESC}\\[1;30;35m\\[N\\]\\[ {29}Run\\]\\[ 610\\]: hit eos,avg (\\d+\\.\\d\\d|inf) token/s\n${ESC}\\[0m\n`);
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface TokenizerCall {
  method: string;
  path: string;
  body: unknown;
}

/** A stand-in for the tokenizer server: `/encode` wraps the line as the only user message (one id per character). */
class FakeTokenizer {
  readonly calls: TokenizerCall[] = [];
  encodeStatus = 200;
  /** Number of /decode calls still to answer with a 500. */
  failDecodes = 0;
  /** Answer delay per path (ms): more than 1000 is more than the runner waits. */
  delays: Record<string, number> = {};
  private server: Server;
  url = '';

  static encodeIds(text: string): number[] {
    return [151644, 872, 198, ...[...text].map((c) => c.codePointAt(0) as number), EOS, 198, 151644, 77091, 198];
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  decodes(): number[][] {
    return this.calls.filter((c) => c.path === '/decode').map((c) => (c.body as { token_ids: number[] }).token_ids);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    req.on('end', () => {
      const body: unknown = raw ? JSON.parse(raw) : null;
      this.calls.push({ method: req.method ?? '', path: req.url ?? '', body });
      const delay = this.delays[req.url ?? ''] ?? 0;
      const send = (status: number, value: unknown) => {
        const answer = () => {
          if (res.destroyed) return;
          res.writeHead(status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (delay > 0) setTimeout(answer, delay);
        else answer();
      };
      if (req.url === '/bos_id') return send(200, { bos_id: -1 });
      if (req.url === '/eos_id') return send(200, { eos_id: EOS });
      if (req.url === '/encode') {
        if (this.encodeStatus !== 200) return send(this.encodeStatus, { error: 'nope' });
        return send(200, { token_ids: FakeTokenizer.encodeIds((body as { text: string }).text) });
      }
      if (req.url === '/decode') {
        if (this.failDecodes > 0) {
          this.failDecodes--;
          return send(500, { error: 'busy' });
        }
        return send(200, { text: (body as { token_ids: number[] }).token_ids.map((id) => `<${id}>`).join('') });
      }
      res.end('error');
    });
  }
}

/** The emulator under a pty; output is buffered and waited on, never slept on. */
class RunnerUnderPty {
  output = '';
  readonly exited: Promise<{ exitCode: number; signal?: number }>;
  private readonly child: pty.IPty;
  private listeners: Array<() => void> = [];

  constructor(cwd: string, args: string[], env: Record<string, string>) {
    this.child = pty.spawn('/bin/sh', ['-c', 'stty -echo -onlcr; exec ./main_axcl_x86 "$@"', 'sh', ...args], {
      name: 'xterm',
      cols: 200,
      rows: 50,
      cwd,
      env: { PATH: process.env.PATH ?? '', QWEN_EMU_LOAD_MS: '0', QWEN_EMU_TOKEN_MS: '0', ...env },
      encoding: 'utf8',
    });
    this.child.onData((chunk) => {
      this.output += chunk;
      for (const listener of this.listeners) listener();
    });
    this.exited = new Promise((resolve) => this.child.onExit((e) => resolve(e)));
  }

  get pid(): number {
    return this.child.pid;
  }

  write(data: string): void {
    this.child.write(data);
  }

  count(needle: string, from = 0): number {
    return this.output.slice(from).split(needle).length - 1;
  }

  /** Resolves when the output (from `from`) satisfies `test`; rejects after `ms` with the output so far. */
  waitFor(test: string | RegExp | ((out: string) => boolean), ms = 10000, from = 0): Promise<string> {
    const check = (): boolean => {
      const out = this.output.slice(from);
      if (typeof test === 'string') return out.includes(test);
      if (test instanceof RegExp) return test.test(out);
      return test(out);
    };
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== onData);
      };
      const onData = () => {
        if (check()) {
          done();
          resolve(this.output.slice(from));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${String(test)}; output: ${JSON.stringify(this.output.slice(-2000))}`));
      }, ms);
      this.listeners.push(onData);
      onData();
    });
  }

  /** Waits for the `n`-th `>> ` counted from `from`. */
  waitForPrompt(n = 1, from = 0, ms = 10000): Promise<string> {
    return this.waitFor((out) => out.split(PROMPT).length - 1 >= n, ms, from);
  }

  kill(): void {
    try {
      process.kill(this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

describe('runner emulator (main_axcl_x86 under a pty)', () => {
  let root: string;
  let modelDir: string;
  let tokenizer: FakeTokenizer;
  const runners: RunnerUnderPty[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'qwen-emu-'));
    modelDir = await createEmulatedModelDir({ target: join(root, 'model') });
    chmodSync(join(modelDir, 'main_axcl_x86'), 0o755);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeEach(async () => {
    tokenizer = await new FakeTokenizer().start();
  });

  afterEach(async () => {
    for (const runner of runners.splice(0)) runner.kill();
    await tokenizer.stop();
  });

  function start(env: Record<string, string> = {}, prompt = '', cwd = modelDir, url = tokenizer.url): RunnerUnderPty {
    const runner = new RunnerUnderPty(cwd, upstreamRunnerArgs(url, prompt), env);
    runners.push(runner);
    return runner;
  }

  async function ready(env: Record<string, string> = {}): Promise<RunnerUnderPty> {
    const runner = start(env);
    await runner.waitForPrompt();
    return runner;
  }

  function expectedReply(text: string): string {
    return [...text].map((c) => `<${c.codePointAt(0)}>`).join('');
  }

  it('is laid out like the upstream repository, runner and scripts without the executable bit', async () => {
    const fresh = await createEmulatedModelDir({ target: join(root, 'layout'), postConfig: false });
    for (const file of ['main_axcl_aarch64', 'main_axcl_x86', 'run_qwen2.5_1.5b_gptq_int4_axcl_x86.sh', 'run_qwen2.5_1.5b_gptq_int4_axcl_aarch64.sh']) {
      expect(statSync(join(fresh, file)).mode & 0o111).toBe(0);
    }
    for (const file of upstreamModelFiles()) expect(existsSync(join(fresh, file))).toBe(true);
    expect(existsSync(join(fresh, 'post_config.json'))).toBe(false);
    expect(readFileSync(join(fresh, 'qwen2.5_tokenizer', 'tokenizer.json')).length).toBe(7031645);
    expect(readFileSync(join(fresh, 'run_qwen2.5_1.5b_gptq_int4_axcl_x86.sh'), 'utf8')).toContain('./main_axcl_x86 --template_filename_axmodel "qwen2.5-1.5b-gptq-int4-ax650/qwen2_p128_l%d_together.axmodel" --axmodel_num 28');
    expect(readFileSync(join(fresh, 'main_axcl_x86'), 'utf8')).toMatch(/^#!\/bin\/sh\n[\s\S]*exec '.*node.*' '.*dist\/apps\/runner-emulator\/src\/main\.js' "\$@"\n$/);
  });

  it('prints the exact start-up bytes, performs the handshake and stops at ">> "', async () => {
    const runner = start();
    const out = await runner.waitForPrompt();
    const steps = ['tokenizer init ok', 'embed_selector init ok', ...Array.from({ length: 28 }, (_, i) => `init ${i} axmodel ok,remain_cmm(-1 MB)`), 'init post axmodel ok\n'];
    const bar = steps
      .map((text, k) => {
        const fraction = (k + 1) / 31;
        // cqdm's loops: `i < p·32` blocks, then `i < 32 − p·32` spaces (both rounded up, 33 columns between steps)
        const full = Math.ceil(fraction * 32);
        const empty = Math.max(0, Math.ceil(32 - fraction * 32));
        const pct = String(Math.trunc(fraction * 100)).padStart(3);
        return (
          escapeRegExp(`${ESC}[1;30;33m\r${pct}% | ${'█'.repeat(full)}${' '.repeat(empty)} | ${String(k + 1).padStart(3)} /  31 `) +
          '\\[\\d+\\.\\d\\ds<\\d+\\.\\d\\ds, (\\d+\\.\\d\\d|inf) count/s\\] ' +
          escapeRegExp(`${ESC}[1;30;32m${text}${ESC}[0m`)
        );
      })
      .join('');
    const head = escapeRegExp('build time: Feb 13 2025 15:44:57\n' + record('I', 2, 'Init', 111, 'LLM init start') + 'bos_id: -1, eos_id: 151645\n');
    const tail = escapeRegExp(
      record('I', 2, 'Init', 226, 'max_token_len : 1024') +
        record('I', 2, 'Init', 231, 'kv_cache_size : 256, kv_cache_num: 1024') +
        record('I', 2, 'load_config', 282, 'load config: \n{\n    "enable_repetition_penalty": false,\n    "enable_temperature": true,\n    "enable_top_k_sampling": true,\n    "enable_top_p_sampling": false,\n    "penalty_window": 20,\n    "repetition_penalty": 1.2,\n    "temperature": 0.9,\n    "top_k": 10,\n    "top_p": 0.8\n}\n') +
        record('I', 2, 'Init', 288, 'LLM init ok') +
        'Type "q" to exit, Ctrl+c to stop current running\n>> ',
    );
    expect(out).toMatch(new RegExp(`^${head}${bar}${tail}$`));
    expect(tokenizer.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /bos_id', 'GET /eos_id']);
  });

  it('answers one line: /encode of the exact line, /decode every 3 ids, the footer, the final /decode, ">> "', async () => {
    const runner = await ready();
    const mark = runner.output.length;
    runner.write('hello, wörld\n');
    const turn = await runner.waitForPrompt(1, mark);
    const ids = [...'hello, wörld'].map((c) => c.codePointAt(0) as number);
    expect(tokenizer.calls.filter((c) => c.path === '/encode').map((c) => c.body)).toEqual([{ text: 'hello, wörld' }]);
    const chunks = [ids.slice(0, 3), ids.slice(3, 6), ids.slice(6, 9), ids.slice(9, 12)];
    expect(tokenizer.decodes()).toEqual([...chunks, ids]);
    const match = footerPattern.exec(turn);
    expect(match).not.toBeNull();
    expect(turn).toBe(expectedReply('hello, wörld') + (match as RegExpExecArray)[0] + PROMPT);
  });

  it('prints the < 3 leftover ids on eos, ignores an empty line and exits 0 on "q"', async () => {
    const runner = await ready();
    let mark = runner.output.length;
    runner.write('\n');
    expect(await runner.waitForPrompt(1, mark)).toBe(PROMPT);
    mark = runner.output.length;
    runner.write('abcd\n');
    const turn = await runner.waitForPrompt(1, mark);
    expect(turn.startsWith('<97><98><99><100>\n\n')).toBe(true);
    expect(tokenizer.decodes()).toEqual([[97, 98, 99], [100], [97, 98, 99, 100]]);
    expect(tokenizer.calls.filter((c) => c.path === '/encode')).toHaveLength(1);
    runner.write('q\n');
    expect(await runner.exited).toEqual(expect.objectContaining({ exitCode: 0 }));
  });

  it('answers a non-empty --prompt once before the loop', async () => {
    const runner = start({}, 'hi');
    const out = await runner.waitForPrompt();
    expect(out).toMatch(new RegExp(`LLM init ok${ESC}\\[0m\n<104><105>\n\n${ESC}\\[1;30;35m\\[N\\][^\n]*hit eos[^\n]*\n${ESC}\\[0m\nType "q" to exit, Ctrl\\+c to stop current running\n>> $`));
  });

  it('uses the tokens of the LAST user message, or echoes a raw prompt', async () => {
    const { planReply } = await import('../apps/runner-emulator/src/reply-planner');
    const conversation = [151644, 8948, 198, 1, 151645, 198, 151644, 872, 198, 5, 6, 151645, 198, 151644, 77091, 198, 7, 151645, 198, 151644, 872, 198, 8, 9, 151645, 198, 151644, 77091, 198];
    expect(planReply(conversation, EOS, 1)).toEqual([8, 9, EOS]);
    expect(planReply([3, 4], EOS, 2)).toEqual([3, 4, 3, 4, EOS]);
  });

  it('Ctrl-C mid-generation ends the turn early with the footer; the next request is served', async () => {
    const runner = await ready({ QWEN_EMU_TOKEN_MS: '20', QWEN_EMU_REPEAT: '30' });
    let mark = runner.output.length;
    runner.write('abc\n');
    await runner.waitFor('<97><98><99>', 10000, mark);
    runner.write('\x03');
    const turn = await runner.waitForPrompt(1, mark);
    expect(turn).toMatch(footerPattern);
    const decodes = tokenizer.decodes();
    const final = decodes[decodes.length - 1];
    expect(final.length).toBeLessThan(90);
    // Leftover ids are not printed on Ctrl-C: the text is exactly the full chunks.
    expect(turn.slice(0, turn.indexOf('\n\n'))).toBe(decodes.slice(0, -1).map((ids) => ids.map((id) => `<${id}>`).join('')).join(''));
    expect(decodes.slice(0, -1).every((ids) => ids.length === 3)).toBe(true);

    mark = runner.output.length;
    runner.write('xy\n');
    const next = await runner.waitForPrompt(1, mark, 15000);
    expect(next.startsWith('<120><121><120><121>')).toBe(true);
    expect(next).toMatch(footerPattern);
  });

  it('Ctrl-C at ">> " does nothing and does not leak into the next turn', async () => {
    const runner = await ready({ QWEN_EMU_REPEAT: '2' });
    runner.write('\x03');
    // The terminal discards pending input when it sees ^C: type empty lines until one is answered by `>> `.
    for (let attempt = 0; ; attempt++) {
      const before = runner.output.length;
      runner.write('\n');
      try {
        expect(await runner.waitForPrompt(1, before, 300)).toBe(PROMPT);
        break;
      } catch (error) {
        if (attempt >= 10) throw error;
      }
    }
    const mark = runner.output.length;
    runner.write('xyz\n');
    const turn = await runner.waitForPrompt(1, mark);
    expect(turn.startsWith(expectedReply('xyzxyz') + '\n\n')).toBe(true);
  });

  it('stops after 1024 forward passes: 1024 − P + 1 tokens sampled, the leftover ids not printed', async () => {
    const runner = await ready({ QWEN_EMU_REPEAT: '400' });
    let mark = runner.output.length;
    runner.write('abc\n'); // 11 prompt ids → 1014 generated: 338 chunks printed, nothing left over
    let turn = await runner.waitForPrompt(1, mark, 30000);
    let decodes = tokenizer.decodes();
    expect(decodes[decodes.length - 1]).toHaveLength(1024 - 11 + 1);
    expect(decodes).toHaveLength(338 + 1);
    expect(turn.slice(0, turn.indexOf('\n\n'))).toBe(expectedReply('abc'.repeat(400).slice(0, 1014)));
    expect(turn).toMatch(footerPattern);

    tokenizer.calls.length = 0;
    mark = runner.output.length;
    runner.write('abcd\n'); // 12 prompt ids → 1013 generated: 337 chunks printed, 2 ids dropped
    turn = await runner.waitForPrompt(1, mark, 30000);
    decodes = tokenizer.decodes();
    expect(decodes[decodes.length - 1]).toHaveLength(1024 - 12 + 1);
    expect(decodes).toHaveLength(337 + 1);
    expect(turn.slice(0, turn.indexOf('\n\n'))).toBe(expectedReply('abcd'.repeat(400).slice(0, 1011)));
  }, 60000);

  it('spins printing ">> " after end of file, bounded by QWEN_EMU_EOF_SPIN_LIMIT, then exits 1', async () => {
    const runner = await ready({ QWEN_EMU_EOF_SPIN_LIMIT: '50' });
    const mark = runner.output.length;
    runner.write('\x04');
    const exit = await runner.exited;
    expect(exit.exitCode).toBe(1);
    expect(runner.count(PROMPT, mark)).toBe(49);
  });

  it('fails init with an [E] line and status 255 when a model file is missing', async () => {
    const broken = await createEmulatedModelDir({ target: join(root, 'broken') });
    chmodSync(join(broken, 'main_axcl_x86'), 0o755);
    unlinkSync(join(broken, 'qwen2.5-1.5b-gptq-int4-ax650/qwen2_p128_l5_together.axmodel'));
    const runner = start({}, '', broken);
    expect((await runner.exited).exitCode).toBe(255);
    expect(runner.output).toContain(`init 4 axmodel ok,remain_cmm(-1 MB)${ESC}[0m${ESC}[1;30;31m[E][                            Init][ 178]: init axmodel(qwen2.5-1.5b-gptq-int4-ax650/qwen2_p128_l5_together.axmodel) failed${ESC}[0m\n`);
    expect(runner.output).not.toContain(PROMPT);
  });

  it('prints the [E]/[W] lines and still starts when post_config.json is missing', async () => {
    const bare = await createEmulatedModelDir({ target: join(root, 'bare'), postConfig: false });
    chmodSync(join(bare, 'main_axcl_x86'), 0o755);
    const runner = start({}, '', bare);
    const out = await runner.waitForPrompt();
    expect(out).toContain(
      record('E', 1, 'load_config', 278, 'config file(post_config.json) open failed') +
        record('W', 3, 'Init', 285, 'load postprocess config(post_config.json) failed') +
        record('I', 2, 'Init', 288, 'LLM init ok'),
    );
  });

  it('dies by SIGSEGV at init when the tokenizer cannot be reached or answers after more than 1 s', async () => {
    const unreachable = start({}, '', modelDir, 'http://127.0.0.1:9');
    expect((await unreachable.exited).signal).toBe(11);
    expect(unreachable.output).toBe('build time: Feb 13 2025 15:44:57\n' + record('I', 2, 'Init', 111, 'LLM init start'));

    tokenizer.delays['/eos_id'] = 1300;
    const slow = start();
    expect((await slow.exited).signal).toBe(11);
    expect(slow.output).not.toContain('bos_id:');
    expect(slow.output).not.toContain('[E]');
  }, 15000);

  it('rejects flags this build does not have', async () => {
    const runner = new RunnerUnderPty(modelDir, ['--system_prompt', 'x', ...upstreamRunnerArgs(tokenizer.url, '')], {});
    runners.push(runner);
    expect((await runner.exited).exitCode).toBe(1);
    expect(runner.output.startsWith('undefined option: --system_prompt\n')).toBe(true);

    const noPrompt = new RunnerUnderPty(modelDir, upstreamRunnerArgs(tokenizer.url, '').slice(0, -2), {});
    runners.push(noPrompt);
    expect((await noPrompt.exited).exitCode).toBe(1);
    expect(noPrompt.output.startsWith('need option: --prompt\n')).toBe(true);
  });

  it('dies abruptly when the tokenizer goes away mid-generation', async () => {
    const runner = await ready({ QWEN_EMU_TOKEN_MS: '20', QWEN_EMU_REPEAT: '30' });
    const mark = runner.output.length;
    runner.write('abc\n');
    await runner.waitFor('<97><98><99>', 10000, mark);
    await tokenizer.stop();
    const exit = await runner.exited;
    expect(exit.signal).toBe(11);
    expect(runner.output.slice(mark)).not.toContain('hit eos');
    tokenizer = await new FakeTokenizer().start(); // for afterEach
  });

  it('crashes when /encode answers an error status', async () => {
    const runner = await ready();
    tokenizer.encodeStatus = 500;
    runner.write('abc\n');
    expect((await runner.exited).signal).toBe(11);
  });

  it('retries a failed /decode once: each failure prints two [E][Decode] records and sleeps a second', async () => {
    const runner = await ready();
    tokenizer.failDecodes = 1;
    let mark = runner.output.length;
    runner.write('abc\n');
    let turn = await runner.waitForPrompt(1, mark);
    const failure = record('E', 1, 'Decode', 0, 'decode failed, status: 500, try again') + record('E', 1, 'Decode', 0, '{"error":"busy"}');
    expect(turn.startsWith(failure + '<97><98><99>\n\n')).toBe(true);
    expect(tokenizer.decodes()).toEqual([[97, 98, 99], [97, 98, 99], [97, 98, 99]]);

    // both tries fail: four records, two seconds, the chunk's text is empty
    tokenizer.calls.length = 0;
    tokenizer.failDecodes = 2;
    mark = runner.output.length;
    const started = Date.now();
    runner.write('abc\n');
    turn = await runner.waitForPrompt(1, mark);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(turn.startsWith(failure + failure + '\n\n')).toBe(true);
    expect(tokenizer.decodes()).toEqual([[97, 98, 99], [97, 98, 99], [97, 98, 99]]);
  }, 20000);

  it('dies by SIGSEGV when a /decode mid-answer takes more than 1 s', async () => {
    const runner = await ready({ QWEN_EMU_REPEAT: '3' });
    tokenizer.delays['/decode'] = 1300;
    const mark = runner.output.length;
    runner.write('abc\n');
    expect((await runner.exited).signal).toBe(11);
    expect(runner.output.slice(mark)).toBe('');
  }, 15000);

  it('QWEN_EMU_FAIL_INIT=1: [E] line and status 255', async () => {
    const runner = start({ QWEN_EMU_FAIL_INIT: '1' });
    expect((await runner.exited).exitCode).toBe(255);
    expect(runner.output).toMatch(/\[E\]\[\s+Init\]\[ 178\]: init axmodel\(.*l0_together\.axmodel\) failed/);
  });

  it('QWEN_EMU_FAIL_INIT=device-permission / no-driver: the card\'s own lines before the [E] line, status 255', async () => {
    const layerFailed = record('E', 1, 'Init', 178, 'init axmodel(qwen2.5-1.5b-gptq-int4-ax650/qwen2_p128_l0_together.axmodel) failed');
    const permission = start({ QWEN_EMU_FAIL_INIT: 'device-permission' });
    expect((await permission.exited).exitCode).toBe(255);
    expect(permission.output).toMatch(
      new RegExp(
        escapeRegExp(`embed_selector init ok${ESC}[0m[E][init][ 386]: Set AXCL device failed{0x80300186}.\n`) +
          `\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\]\\[${permission.pid}\\]` +
          escapeRegExp('[E][device manager][request_ports][464]: request ports from device 1 fail, errno: 1 Operation not permitted\n' + layerFailed) +
          '$',
      ),
    );

    const noDriver = start({ QWEN_EMU_FAIL_INIT: 'no-driver' });
    expect((await noDriver.exited).exitCode).toBe(255);
    expect(noDriver.output.endsWith(`embed_selector init ok${ESC}[0maxcl init fail, ret = 0x8030010b\nopen /dev/axcl_host fail, errno: 2 No such file or directory\n${layerFailed}`)).toBe(true);
  });

  it('QWEN_EMU_CRASH_AFTER_TOKENS: dies after N generated tokens, without a footer', async () => {
    const runner = await ready({ QWEN_EMU_CRASH_AFTER_TOKENS: '4' });
    const mark = runner.output.length;
    runner.write('abcdefg\n');
    expect((await runner.exited).signal).toBe(11);
    expect(runner.output.slice(mark)).toBe('<97><98><99>');
  });

  it('QWEN_EMU_DEVICE_DEAD_AFTER_TOKENS: prints the "device is dead" burst, then nothing, and stays alive', async () => {
    const runner = await ready({ QWEN_EMU_DEVICE_DEAD_AFTER_TOKENS: '3' });
    const mark = runner.output.length;
    runner.write('abcdefg\n');
    const out = await runner.waitFor((o) => o.split('[C][device][print]').length - 1 >= 227, 10000, mark);
    expect(out).toMatch(new RegExp(`^<97><98><99>\\[\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\]\\[${runner.pid}\\]\\[W\\]\\[device manager\\]\\[listen\\]\\[292\\]: device 1 is dead\n`));
    expect(out).toContain(`][${runner.pid}][C][device][print][18]: allocated device memories: 226\n`);
    expect(out.split(`][${runner.pid}][C][device][print][20]: [0x`).length - 1).toBe(226);
    runner.write('\x03');
    runner.write('q\n');
    await expect(runner.waitFor('hit eos', 500, mark)).rejects.toThrow('timed out');
    expect(() => process.kill(runner.pid, 0)).not.toThrow();
  });

  it('QWEN_EMU_DEVICE_DEAD_IDLE_MS: the device dies while the runner sits at ">> "; then nothing more, "q" is ignored', async () => {
    const runner = await ready({ QWEN_EMU_DEVICE_DEAD_IDLE_MS: '300' });
    const mark = runner.output.length;
    const out = await runner.waitFor((o) => o.endsWith(' bytes\n') && o.split('[C][device][print]').length - 1 === 227, 10000, mark);
    expect(out).toMatch(new RegExp(`^\\[[^\\]]+\\]\\[${runner.pid}\\]\\[W\\]\\[device manager\\]\\[listen\\]\\[292\\]: device 1 is dead\n`));
    runner.write('q\n');
    await expect(runner.waitFor(PROMPT, 500, mark)).rejects.toThrow('timed out');
    expect(() => process.kill(runner.pid, 0)).not.toThrow();
    expect(tokenizer.calls.filter((c) => c.path === '/encode')).toHaveLength(0);
  });

  it('QWEN_EMU_FAULT_FILE {deviceDeadIdleMs}: a running, idle emulator loses its device on demand', async () => {
    const faultFile = join(root, 'idle-fault.json');
    const runner = await ready({ QWEN_EMU_FAULT_FILE: faultFile });
    let mark = runner.output.length;
    runner.write('ab\n');
    await runner.waitForPrompt(1, mark);
    mark = runner.output.length;
    writeFileSync(faultFile, JSON.stringify({ deviceDeadIdleMs: 0 }));
    const out = await runner.waitFor((o) => o.split('[C][device][print]').length - 1 === 227, 10000, mark);
    expect(out.startsWith('[')).toBe(true);
    expect(existsSync(faultFile)).toBe(false);
  });

  it('QWEN_EMU_HANG_AFTER_TOKENS: stops output and stays alive', async () => {
    const runner = await ready({ QWEN_EMU_HANG_AFTER_TOKENS: '3' });
    const mark = runner.output.length;
    runner.write('abcdefg\n');
    await runner.waitFor('<97><98><99>', 10000, mark);
    runner.write('\x03');
    await expect(runner.waitFor('hit eos', 500, mark)).rejects.toThrow('timed out');
    expect(runner.output.slice(mark)).toBe('<97><98><99>');
    expect(() => process.kill(runner.pid, 0)).not.toThrow();
  });

  it('QWEN_EMU_START_LOG and QWEN_EMU_FAULT_FILE: counts starts, injects a one-off fault into a running emulator', async () => {
    const startLog = join(root, 'starts.log');
    const faultFile = join(root, 'fault.json');
    const runner = await ready({ QWEN_EMU_START_LOG: startLog, QWEN_EMU_FAULT_FILE: faultFile });
    const lines = readFileSync(startLog, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`${runner.pid} ${JSON.stringify(upstreamRunnerArgs(tokenizer.url, ''))}`);

    writeFileSync(faultFile, JSON.stringify({ repeat: 2 }));
    let mark = runner.output.length;
    runner.write('ab\n');
    expect((await runner.waitForPrompt(1, mark)).startsWith('<97><98><97><98>\n\n')).toBe(true);
    expect(existsSync(faultFile)).toBe(false);

    mark = runner.output.length;
    runner.write('ab\n');
    expect((await runner.waitForPrompt(1, mark)).startsWith('<97><98>\n\n')).toBe(true);

    writeFileSync(faultFile, JSON.stringify({ crashAfterTokens: 1 }));
    runner.write('ab\n');
    expect((await runner.exited).signal).toBe(11);
    expect(existsSync(faultFile)).toBe(false);
  });
});
