import { Logger } from '@nestjs/common';
import type { TokenizerConfig } from '@qwen/config';
import { Clock, TimerHandle } from '@qwen/supervision';
import { TokenizerChild, TokenizerExit, TokenizerProcess } from './tokenizer-process';
import { ProbeFailure, TokenizerProbe } from './tokenizer-probe';
import { TokenizerLaunch, UPSTREAM_TOKENIZER_LIMITATIONS } from './tokenizer-strategy';
import { KILL_WAIT_MS, START_POLL_MS, STOP_GRACE_MS, TokenizerSupervisor } from './tokenizer-supervisor';
import { RegisterCommand, TokenizerProcessMessage, TokenizerSnapshot, TokenizerUnavailableError } from './tokenizer.contract';
import { TokenizerModuleOptions } from './tokenizer.options';

// ---------------------------------------------------------------- fakes

/** Timers that only fire when the test moves time on. */
class FakeClock extends Clock {
  private time = 1_000_000;
  private seq = 0;
  private timers: { at: number; seq: number; callback: () => void }[] = [];

  override now(): number {
    return this.time;
  }

  override setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = { at: this.time + ms, seq: this.seq++, callback };
    this.timers.push(timer);
    return timer as unknown as TimerHandle;
  }

  override clearTimeout(timer: TimerHandle | null | undefined): void {
    this.timers = this.timers.filter((t) => (t as unknown) !== timer);
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.callback();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

class FakeChild implements TokenizerChild {
  exited = false;
  readonly kills: NodeJS.Signals[] = [];
  ignoreSigterm = false;
  /** What the process "wrote" last (tokenizer.log). */
  lastLine: string | null = null;
  private readonly exitListeners: ((exit: TokenizerExit) => void)[] = [];
  private readonly messageListeners: ((message: unknown) => void)[] = [];

  constructor(readonly pid: number) {}

  onExit(listener: (exit: TokenizerExit) => void): void {
    this.exitListeners.push(listener);
  }

  onMessage(listener: (message: unknown) => void): void {
    this.messageListeners.push(listener);
  }

  kill(signal: NodeJS.Signals): void {
    this.kills.push(signal);
    if (signal === 'SIGTERM' && this.ignoreSigterm) return;
    queueMicrotask(() => this.exit({ code: null, signal }));
  }

  exit(exit: TokenizerExit): void {
    if (this.exited) return;
    this.exited = true;
    for (const listener of this.exitListeners) listener(exit);
  }

  /** Commands the supervisor sent to the process. */
  readonly received: unknown[] = [];

  send(message: unknown): boolean {
    if (this.exited) return false;
    this.received.push(message);
    return true;
  }

  /** Registrations the supervisor sent over the registration channel. */
  readonly registrations: RegisterCommand[] = [];

  register(command: RegisterCommand): boolean {
    if (this.exited) return false;
    this.registrations.push(command);
    return true;
  }

  lastOutputLine(): string | null {
    return this.lastLine;
  }

  /** A message from the process to the supervisor. */
  emit(message: unknown): void {
    for (const listener of this.messageListeners) listener(message);
  }
}

const READY_EVENT: TokenizerProcessMessage = { type: 'ready', port: 12345, source: 'model-dir', tokenizerDir: '/m/qwen2.5_tokenizer' };

class FakeProcess {
  readonly children: FakeChild[] = [];
  startError: Error | null = null;
  /** When false, the children do not send the IPC `ready` message by themselves. */
  announceReady = true;
  private nextPid = 4000;

  readonly installRoot = '/opt/qwen-chat';

  start(launch: TokenizerLaunch): TokenizerChild {
    if (this.startError) throw this.startError;
    const child = new FakeChild(this.nextPid++);
    this.children.push(child);
    // Only our server (builtin mode) has an IPC channel.
    if (this.announceReady && launch.kind === 'fork') queueMicrotask(() => child.emit(READY_EVENT));
    return child;
  }

  get last(): FakeChild {
    return this.children[this.children.length - 1];
  }
}

/** GET /bos_id answers while `answering` is true. */
class FakeProbe {
  answering = false;
  calls = 0;

  bosId(): Promise<ProbeFailure> {
    this.calls++;
    return Promise.resolve(this.answering ? null : 'GET /bos_id failed: ECONNREFUSED');
  }
}

const TOKENIZER: TokenizerConfig = {
  mode: 'builtin',
  host: '127.0.0.1',
  port: 12345,
  python: 'python3',
  startTimeoutMs: 30000,
  healthIntervalMs: 5000,
  healthTimeoutMs: 1000,
  healthFailures: 3,
  requestTimeoutMs: 2000,
  restartInitialDelayMs: 500,
  restartMaxDelayMs: 30000,
  handleTtlMs: 120000,
  defaultSystemPrompt: null,
  rawPromptSpecialTokens: false,
};

function optionsWith(patch: Partial<TokenizerConfig> = {}): TokenizerModuleOptions {
  return { tokenizer: { ...TOKENIZER, ...patch }, paths: { modelDir: '/nonexistent/model', logDir: '/nonexistent/logs', runDir: '/nonexistent/run' } };
}

describe(TokenizerSupervisor.name, () => {
  let clock: FakeClock;
  let processes: FakeProcess;
  let probe: FakeProbe;
  let supervisor: TokenizerSupervisor;
  let warnings: string[];

  function create(patch: Partial<TokenizerConfig> = {}): TokenizerSupervisor {
    supervisor = new TokenizerSupervisor(optionsWith(patch), processes as unknown as TokenizerProcess, probe as unknown as TokenizerProbe, clock);
    return supervisor;
  }

  /** Bootstraps and brings the first process to ready. */
  async function startReady(patch: Partial<TokenizerConfig> = {}): Promise<FakeChild> {
    create(patch).onApplicationBootstrap();
    probe.answering = true;
    await clock.advance(START_POLL_MS);
    expect(supervisor.snapshot().state).toBe('ready');
    return processes.last;
  }

  /** Records whether a promise settled, without awaiting it. */
  function track(promise: Promise<void>): { settled: () => 'pending' | 'resolved' | Error } {
    let outcome: 'pending' | 'resolved' | Error = 'pending';
    promise.then(
      () => (outcome = 'resolved'),
      (error: Error) => (outcome = error),
    );
    return { settled: () => outcome };
  }

  beforeEach(() => {
    clock = new FakeClock();
    processes = new FakeProcess();
    probe = new FakeProbe();
    warnings = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    const stopping = supervisor?.stop();
    await clock.advance(STOP_GRACE_MS + KILL_WAIT_MS);
    await stopping;
    jest.restoreAllMocks();
  });

  describe('start-up', () => {
    it('starts the process without blocking and reports ready only once GET /bos_id answers', async () => {
      create();
      const ready = track(supervisor.whenReady());
      expect(supervisor.onApplicationBootstrap()).toBeUndefined();
      expect(processes.children).toHaveLength(1);
      expect(supervisor.snapshot()).toMatchObject({ state: 'starting', pid: 4000, mode: 'builtin', restarts: 0, limitations: [] });

      await clock.advance(5000);
      expect(probe.calls).toBeGreaterThan(10);
      expect(supervisor.snapshot().state).toBe('starting');
      expect(ready.settled()).toBe('pending');

      probe.answering = true;
      await clock.advance(START_POLL_MS);
      expect(supervisor.snapshot()).toMatchObject({ state: 'ready', pid: 4000 });
      expect(ready.settled()).toBe('resolved');
      await expect(supervisor.whenReady()).resolves.toBeUndefined();
    });

    it('lets whenReady() wait when called before the application bootstrap', async () => {
      create();
      const ready = track(supervisor.whenReady());
      await clock.advance(1000);
      expect(ready.settled()).toBe('pending');
      supervisor.onApplicationBootstrap();
      probe.answering = true;
      await clock.advance(START_POLL_MS);
      expect(ready.settled()).toBe('resolved');
    });

    it('takes the tokenizer source from the ready IPC event and re-emits its IPC messages on messages$', async () => {
      const child = await startReady();
      const events: TokenizerProcessMessage[] = [];
      const subscription = supervisor.messages$.subscribe((event) => events.push(event));
      child.emit({ type: 'ready', port: 12345, source: 'npm-package', tokenizerDir: '/x' });
      child.emit({ type: 'tokens', handle: 'qh-1', generated: 3, limitReached: false });
      child.emit({ type: 'something else' });
      child.emit('not an event');
      subscription.unsubscribe();
      expect(events.map((e) => e.type)).toEqual(['ready', 'tokens']);
      expect(supervisor.snapshot().source).toBe('npm-package');
    });

    it('sends registrations over the registration channel and other commands over IPC, only to a ready process', async () => {
      const registration: RegisterCommand = { type: 'register', id: 1, request: { prompt: 'x', contextWindow: 16 } };
      expect(() => create().register(registration)).toThrow(TokenizerUnavailableError); // stopped
      const child = await startReady();
      supervisor.register(registration);
      supervisor.send({ type: 'release', handle: 'qh-1' });
      expect(child.registrations).toEqual([registration]);
      expect(child.received).toEqual([{ type: 'release', handle: 'qh-1' }]);
      child.exited = true; // its channels are closed
      expect(() => supervisor.register(registration)).toThrow('tokenizer unavailable: its registration channel is closed');
    });

    it('in builtin mode, waits for the IPC ready message even when GET /bos_id answers (the port may be held by another process)', async () => {
      processes.announceReady = false;
      create().onApplicationBootstrap();
      probe.answering = true;
      await clock.advance(3000);
      expect(supervisor.snapshot().state).toBe('starting');
      expect(probe.calls).toBe(0);
      processes.last.emit({ type: 'ready', port: 12345, source: 'npm-package', tokenizerDir: '/m' });
      await clock.advance(0);
      expect(supervisor.snapshot()).toMatchObject({ state: 'ready', source: 'npm-package' });
      expect(probe.calls).toBe(1);
    });

    it('in upstream mode (no IPC), is ready on the GET /bos_id answer alone', async () => {
      processes.announceReady = false;
      create({ mode: 'upstream' }).onApplicationBootstrap();
      probe.answering = true;
      await clock.advance(START_POLL_MS);
      expect(supervisor.snapshot()).toMatchObject({ state: 'ready', source: null });
    });

    it('fails a start that gets no answer within startTimeoutMs, rejects whenReady, and retries after the back-off', async () => {
      create({ startTimeoutMs: 2000 }).onApplicationBootstrap();
      const ready = track(supervisor.whenReady());
      await clock.advance(2000 + START_POLL_MS);
      const snapshot = supervisor.snapshot();
      expect(snapshot).toMatchObject({ state: 'failed', pid: null, restarts: 0 });
      expect(snapshot.lastError).toContain('no answer to GET /bos_id within 2000 ms');
      expect(ready.settled()).toBeInstanceOf(TokenizerUnavailableError);
      expect(processes.children[0].kills).toContain('SIGKILL');

      probe.answering = true;
      await clock.advance(500 + START_POLL_MS);
      expect(processes.children).toHaveLength(2);
      expect(supervisor.snapshot()).toMatchObject({ state: 'ready', restarts: 1, pid: 4001 });
    });

    it('reports a process that cannot be started as failed, with the reason, and keeps trying', async () => {
      processes.startError = new Error('/x/dist/apps/tokenizer-server/src/main.js is missing (run npm run build)');
      create();
      const ready = track(supervisor.whenReady());
      supervisor.onApplicationBootstrap();
      await clock.advance(0);
      expect(supervisor.snapshot()).toMatchObject({ state: 'failed', pid: null });
      expect(supervisor.snapshot().lastError).toContain('is missing');
      expect(ready.settled()).toBeInstanceOf(TokenizerUnavailableError);
      expect(warnings.some((w) => w.includes('failed to start') && w.includes('restart #1 in 500 ms'))).toBe(true);

      processes.startError = null;
      probe.answering = true;
      await clock.advance(500 + START_POLL_MS);
      expect(supervisor.snapshot()).toMatchObject({ state: 'ready', restarts: 1 });
    });

    it('keeps waiting in whenReady() while a failed start is being retried, and resolves on the next ready', async () => {
      create({ startTimeoutMs: 1000 }).onApplicationBootstrap();
      await clock.advance(1000 + START_POLL_MS);
      expect(supervisor.snapshot().state).toBe('failed');
      const ready = track(supervisor.whenReady());
      probe.answering = true;
      await clock.advance(500 + START_POLL_MS);
      expect(ready.settled()).toBe('resolved');
    });
  });

  describe('restarts', () => {
    it('restarts after the process exits, first within 2 s, with a growing back-off, logging the reason', async () => {
      let child = await startReady();
      const delays: number[] = [];
      for (let round = 1; round <= 3; round++) {
        child.exit({ code: null, signal: 'SIGKILL' });
        await clock.advance(0);
        expect(supervisor.snapshot()).toMatchObject({ state: 'restarting', pid: null, restarts: round - 1 });
        expect(supervisor.snapshot().lastError).toBe('the process exited (signal SIGKILL)');
        let waited = 0;
        while (processes.children.length === round) {
          await clock.advance(100);
          waited += 100;
        }
        delays.push(waited);
        expect(supervisor.snapshot()).toMatchObject({ restarts: round, pid: processes.last.pid });
        await clock.advance(START_POLL_MS);
        expect(supervisor.snapshot()).toMatchObject({ state: 'ready', restarts: round });
        child = processes.last;
      }
      expect(delays).toEqual([500, 1000, 2000]);
      expect(delays[0]).toBeLessThanOrEqual(2000);
      expect(new Set(processes.children.map((c) => c.pid)).size).toBe(4);
      expect(warnings.filter((w) => w.includes('stopped working: the process exited (signal SIGKILL)'))).toHaveLength(3);
    });

    it('caps the back-off at restartMaxDelayMs', async () => {
      let child = await startReady({ restartInitialDelayMs: 1000, restartMaxDelayMs: 3000 });
      for (let round = 1; round <= 4; round++) {
        child.exit({ code: 1, signal: null });
        await clock.advance(0);
        await clock.advance(2999);
        const startedBeforeCap = processes.children.length > round;
        await clock.advance(1 + START_POLL_MS);
        expect(processes.children.length).toBe(round + 1);
        if (round >= 3) expect(startedBeforeCap).toBe(false);
        child = processes.last;
      }
      expect(supervisor.snapshot().lastError).toBe('the process exited (code 1)');
    });

    it('starts the back-off over after a healthy period', async () => {
      let child = await startReady();
      child.exit({ code: 1, signal: null });
      await clock.advance(500 + START_POLL_MS);
      child = processes.last;
      expect(supervisor.snapshot().state).toBe('ready');
      await clock.advance(30000); // ready for restartMaxDelayMs
      child.exit({ code: 1, signal: null });
      await clock.advance(499);
      expect(processes.children).toHaveLength(2);
      await clock.advance(1);
      expect(processes.children).toHaveLength(3);
    });

    it('restarts after healthFailures failed health checks in a row, not before', async () => {
      const child = await startReady();
      probe.answering = false;
      await clock.advance(5000 * 2);
      expect(supervisor.snapshot().state).toBe('ready');
      probe.answering = true; // one success resets the count
      await clock.advance(5000);
      probe.answering = false;
      await clock.advance(5000 * 2);
      expect(supervisor.snapshot().state).toBe('ready');
      expect(child.kills).toEqual([]);

      await clock.advance(5000);
      expect(supervisor.snapshot().state).toBe('restarting');
      expect(supervisor.snapshot().lastError).toContain('3 health checks failed in a row');
      expect(child.kills).toEqual(['SIGKILL']);
      expect(warnings.filter((w) => w.includes('health check failed'))).toHaveLength(5);

      probe.answering = true;
      await clock.advance(500 + START_POLL_MS);
      expect(supervisor.snapshot()).toMatchObject({ state: 'ready', restarts: 1, pid: 4001 });
    });

    it('restart(reason, options) stops the process, starts it with the new options and resolves when ready', async () => {
      const child = await startReady();
      const restarted = track(supervisor.restart('admin reload', optionsWith({ mode: 'upstream', port: 23456 })));
      await clock.advance(0);
      expect(child.kills).toEqual(['SIGTERM']);
      expect(processes.children).toHaveLength(2);
      expect(restarted.settled()).toBe('pending');
      await clock.advance(START_POLL_MS);
      expect(restarted.settled()).toBe('resolved');
      expect(supervisor.snapshot()).toMatchObject({ state: 'ready', restarts: 1, mode: 'upstream', port: 23456, pid: 4001 });
      expect(supervisor.snapshot().limitations).toEqual(UPSTREAM_TOKENIZER_LIMITATIONS);
    });
  });

  describe('says why it failed', () => {
    it('quotes a taken port with the port and the key to change, in lastError and the warning', async () => {
      create().onApplicationBootstrap();
      const child = processes.last;
      child.lastLine = '[tokenizer] failed to start: listen EADDRINUSE: address already in use 127.0.0.1:12345';
      child.exit({ code: 1, signal: null });
      await clock.advance(0);
      const expected =
        'the process exited before it was ready (code 1): [tokenizer] failed to start: listen EADDRINUSE: address already in use 127.0.0.1:12345' +
        ' — port 12345 is taken by another program: stop it, or set tokenizer.port (QWEN_TOKENIZER_PORT) to a free port';
      expect(supervisor.snapshot()).toMatchObject({ state: 'failed', lastError: expected });
      expect(warnings.some((w) => w.includes(expected))).toBe(true);
    });

    it('points at the download script when the tokenizer files are missing', async () => {
      create().onApplicationBootstrap();
      processes.last.lastLine = "OSError: Can't load tokenizer for 'qwen2.5_tokenizer'";
      processes.last.exit({ code: 1, signal: null });
      await clock.advance(0);
      expect(supervisor.snapshot().lastError).toMatch(/OSError: Can't load tokenizer for 'qwen2\.5_tokenizer' — the tokenizer files are missing: run scripts\/download_models\.sh$/);
    });
  });

  describe('stop', () => {
    it('sends SIGTERM, then SIGKILL when it is ignored, and starts nothing afterwards', async () => {
      const child = await startReady();
      child.ignoreSigterm = true;
      const stopped = track(supervisor.stop());
      await clock.advance(STOP_GRACE_MS - 1);
      expect(child.kills).toEqual(['SIGTERM']);
      expect(stopped.settled()).toBe('pending');
      await clock.advance(1);
      expect(child.kills).toEqual(['SIGTERM', 'SIGKILL']);
      expect(child.exited).toBe(true);
      expect(stopped.settled()).toBe('resolved');
      expect(supervisor.snapshot()).toMatchObject({ state: 'stopped', pid: null });
      await clock.advance(120000);
      expect(processes.children).toHaveLength(1);
      await expect(supervisor.whenReady()).rejects.toBeInstanceOf(TokenizerUnavailableError);
    });

    it('cancels a pending restart and rejects whoever waits for ready', async () => {
      const child = await startReady();
      child.exit({ code: null, signal: 'SIGSEGV' });
      await clock.advance(0);
      const ready = track(supervisor.whenReady());
      await supervisor.stop();
      await clock.advance(60000);
      expect(processes.children).toHaveLength(1);
      expect(ready.settled()).toBeInstanceOf(TokenizerUnavailableError);
      expect(supervisor.snapshot().state).toBe('stopped');
    });

    it('stops a process that is still starting', async () => {
      create().onApplicationBootstrap();
      const child = processes.last;
      await supervisor.stop();
      expect(child.kills).toEqual(['SIGTERM']);
      expect(child.exited).toBe(true);
      probe.answering = true;
      await clock.advance(60000);
      expect(supervisor.snapshot().state).toBe('stopped');
      expect(processes.children).toHaveLength(1);
    });
  });

  describe('upstream mode', () => {
    it('states its limitations at start-up and in the snapshot', async () => {
      await startReady({ mode: 'upstream' });
      const snapshot: TokenizerSnapshot = supervisor.snapshot();
      expect(snapshot.mode).toBe('upstream');
      expect(snapshot.limitations.join('\n')).toMatch(/system prompt/);
      expect(snapshot.limitations.join('\n')).toMatch(/history/);
      expect(snapshot.limitations.join('\n')).toMatch(/max_tokens/);
      expect(warnings.some((w) => w.startsWith('upstream tokenizer mode') && w.includes('system prompts'))).toBe(true);
    });

    it('has no limitations in builtin mode', async () => {
      await startReady();
      expect(supervisor.snapshot().limitations).toEqual([]);
      expect(warnings).toEqual([]);
    });
  });
});
