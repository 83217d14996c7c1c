import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock, ExponentialBackoff, stopGracefully, TimerHandle, waitFor } from '@qwen/supervision';
import { BehaviorSubject, distinctUntilChanged, filter, firstValueFrom, from, map, Observable, skip, Subject } from 'rxjs';
import { TokenizerChild, TokenizerExit, TokenizerProcess } from './tokenizer-process';
import { TokenizerProbe } from './tokenizer-probe';
import { tokenizerStrategy, TokenizerStrategy } from './tokenizer-strategy';
import {
  RegisterCommand,
  TokenizerCommand,
  TokenizerProcessMessage,
  TokenizerSnapshot,
  TokenizerStateName,
  TokenizerUnavailableError,
} from './tokenizer.contract';
import { TOKENIZER_OPTIONS, TokenizerModuleOptions } from './tokenizer.options';

/** Pause between two `GET /bos_id` attempts while the server starts. */
export const START_POLL_MS = 100;
/** stop(): SIGTERM, then SIGKILL after this long. */
export const STOP_GRACE_MS = 3000;
/** After SIGKILL, how long to wait for the exit before going on regardless. */
export const KILL_WAIT_MS = 2000;

const MESSAGE_TYPES = new Set(['ready', 'registered', 'refused', 'reported', 'turn-start', 'printed-text', 'tokens', 'turn-end', 'unknown-line']);

/**
 * Starts, health-checks and restarts the tokenizer server process.
 *
 * - Start-up does not block the application: the process is started in onApplicationBootstrap and
 *   the state is `starting` until `GET /bos_id` answers (polled for up to startTimeoutMs), then `ready`.
 *   In builtin mode the server's IPC `ready` message is also required (the port is really ours).
 * - While ready, `GET /bos_id` is checked every healthIntervalMs (healthTimeoutMs each); after
 *   healthFailures failures in a row, or when the process exits, it is restarted after an exponential
 *   back-off (restartInitialDelayMs doubling up to restartMaxDelayMs; starts over after the server was
 *   ready for restartMaxDelayMs). A start that never becomes ready is `failed` until the next attempt.
 *   It never gives up: a dead tokenizer is retried at the capped delay, and each attempt is logged.
 * - stop() (on application shutdown): the graceful stop of @qwen/supervision (SIGTERM, wait, SIGKILL).
 *   TokenizerProcess also SIGKILLs it if the service exits, so it is never left orphaned.
 * - The mode's strategy (builtin or upstream) is picked at each start from the options of that start.
 */
@Injectable()
export class TokenizerSupervisor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TokenizerSupervisor');
  private readonly snapshotSubject: BehaviorSubject<TokenizerSnapshot>;
  private readonly messageSubject = new Subject<TokenizerProcessMessage>();
  private backoff: ExponentialBackoff;
  private strategyInUse: TokenizerStrategy;
  /** Counts the processes started: names the instance that holds the registered handles. */
  private launches = 0;
  private child: TokenizerChild | null = null;
  /** Bumped at every launch, restart and stop: callbacks of an older generation are ignored. */
  private generation = 0;
  /** The one pending timer: start poll, health check or restart delay. */
  private timer: TimerHandle | null = null;
  private startedAt = 0;
  private readySince: number | null = null;
  private healthFailuresInRow = 0;
  private pollInFlight = false;
  /** Builtin mode: the server said `ready` over IPC (so the port is ours, not a stray process's). */
  private ipcReady = false;
  private stopped = false;

  constructor(
    @Inject(TOKENIZER_OPTIONS) private options: TokenizerModuleOptions,
    private readonly tokenizerProcess: TokenizerProcess,
    private readonly probe: TokenizerProbe,
    private readonly clock: Clock,
  ) {
    this.backoff = this.newBackoff();
    this.strategyInUse = tokenizerStrategy(options.tokenizer.mode);
    this.snapshotSubject = new BehaviorSubject<TokenizerSnapshot>({
      state: 'stopped',
      mode: options.tokenizer.mode,
      pid: null,
      port: options.tokenizer.port,
      restarts: 0,
      lastError: null,
      source: null,
      limitations: [...this.strategyInUse.limitations],
    });
  }

  snapshot(): TokenizerSnapshot {
    return this.snapshotSubject.value;
  }

  /** Emits every state change. */
  get snapshots$(): Observable<TokenizerSnapshot> {
    return this.snapshotSubject.asObservable();
  }

  /** Every message of the current tokenizer process (IPC; our server only). */
  get messages$(): Observable<TokenizerProcessMessage> {
    return this.messageSubject.asObservable();
  }

  /** The strategy of the mode the current process was started in. */
  strategy(): TokenizerStrategy {
    return this.strategyInUse;
  }

  /** Names the ready process (a new one knows none of the old one's handles); null when none is ready. */
  instanceId(): number | null {
    return this.snapshot().state === 'ready' ? this.launches : null;
  }

  /** Sends a command to the ready process over IPC; throws TokenizerUnavailableError when there is none. */
  send(command: TokenizerCommand): void {
    const state = this.snapshot().state;
    if (state !== 'ready' || !this.child) throw new TokenizerUnavailableError(`tokenizer unavailable (${state})`);
    if (!this.child.send(command)) throw new TokenizerUnavailableError('tokenizer unavailable: its IPC channel is closed');
  }

  /** Sends a registration over the ready process's registration channel; throws TokenizerUnavailableError when there is none. */
  register(command: RegisterCommand): void {
    const state = this.snapshot().state;
    if (state !== 'ready' || !this.child) throw new TokenizerUnavailableError(`tokenizer unavailable (${state})`);
    if (!this.child.register(command)) throw new TokenizerUnavailableError('tokenizer unavailable: its registration channel is closed');
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Starts the process if it is not running (does not wait; see whenReady()). */
  start(): void {
    if (this.child || this.snapshot().state !== 'stopped') return;
    this.stopped = false;
    this.warnAboutMode();
    this.launch('starting');
  }

  /**
   * Resolves when the tokenizer answers GET /bos_id (immediately if it already does).
   * Rejects with TokenizerUnavailableError when the next start attempt fails, or when stopped.
   * Before the first start (application bootstrap not reached yet) it simply waits.
   */
  whenReady(): Promise<void> {
    if (this.snapshot().state === 'ready') return Promise.resolve();
    if (this.stopped) return Promise.reject(new TokenizerUnavailableError('tokenizer unavailable (stopped)'));
    // A failed start being retried: wait for the outcome of the next attempt.
    const next = this.snapshotSubject.pipe(
      distinctUntilChanged((a, b) => a.state === b.state),
      skip(this.snapshot().state === 'failed' ? 1 : 0),
      filter((s) => s.state === 'ready' || s.state === 'failed' || (s.state === 'stopped' && this.stopped)),
    );
    return firstValueFrom(next).then((s) => {
      if (s.state === 'ready') return;
      throw new TokenizerUnavailableError(s.state === 'stopped' ? 'tokenizer unavailable (stopped)' : `tokenizer unavailable: ${s.lastError}`);
    });
  }

  /** Stops the process and starts it again (with new options if given); resolves when ready. */
  async restart(reason: string, options?: TokenizerModuleOptions): Promise<void> {
    const modeChanged = options !== undefined && options.tokenizer.mode !== this.options.tokenizer.mode;
    if (options) {
      this.options = options;
      this.backoff = this.newBackoff();
      this.strategyInUse = tokenizerStrategy(options.tokenizer.mode);
      this.update({ mode: options.tokenizer.mode, port: options.tokenizer.port, limitations: [...this.strategyInUse.limitations], source: null });
    }
    this.logger.log(`restarting the tokenizer: ${reason}`);
    this.stopped = false;
    const generation = ++this.generation;
    this.clearTimer();
    const old = this.child;
    this.child = null;
    this.readySince = null;
    this.update({ state: 'restarting', pid: null });
    const ready = this.whenReady();
    ready.catch(() => undefined); // the caller gets it below
    await this.terminate(old, STOP_GRACE_MS);
    if (generation === this.generation) {
      if (modeChanged) this.warnAboutMode();
      this.backoff.reset();
      this.update({ restarts: this.snapshot().restarts + 1 });
      this.launch('restarting');
    }
    return ready;
  }

  /** Stops the process for good (SIGTERM, then SIGKILL); never leaves it orphaned. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    this.clearTimer();
    const old = this.child;
    this.child = null;
    this.readySince = null;
    if (old && !old.exited) this.logger.log(`stopping the tokenizer (pid ${old.pid})`);
    await this.terminate(old, STOP_GRACE_MS);
    this.update({ state: 'stopped', pid: null });
  }

  // ------------------------------------------------------------------ start-up

  private launch(state: 'starting' | 'restarting'): void {
    this.clearTimer();
    const generation = ++this.generation;
    this.healthFailuresInRow = 0;
    this.readySince = null;
    this.pollInFlight = false;
    this.ipcReady = false;
    const { mode, host, port } = this.options.tokenizer;
    let child: TokenizerChild;
    try {
      child = this.tokenizerProcess.start(this.strategyInUse.launch(this.options, this.tokenizerProcess.installRoot));
    } catch (error) {
      this.update({ state, pid: null });
      const message = (error as Error).message;
      const hint = tokenizerFailureHint(message, port);
      this.startFailed(generation, `cannot start the tokenizer: ${message}${hint ? ` — ${hint}` : ''}`);
      return;
    }
    this.child = child;
    this.launches += 1;
    this.startedAt = this.clock.now();
    this.update({ state, pid: child.pid, source: null });
    this.logger.log(`tokenizer ${state === 'starting' ? 'starting' : 'restarting'} (${mode}, pid ${child.pid}, ${host}:${port})`);
    child.onMessage((message) => this.onMessage(generation, message));
    child.onExit((exit) => this.onExit(generation, child, exit));
    this.schedule(generation, START_POLL_MS, () => this.pollStart(generation));
  }

  private async pollStart(generation: number): Promise<void> {
    const { host, port, healthTimeoutMs } = this.options.tokenizer;
    // Our server reports `ready` over IPC once it listens; without it, an answer on the port could
    // come from another process (a stray server from an earlier run) while ours fails to bind.
    const waitsForIpc = this.strategyInUse.announcesReady && !this.ipcReady;
    this.pollInFlight = true;
    const failure = waitsForIpc ? 'the server has not reported ready over IPC' : await this.probe.bosId(host, port, healthTimeoutMs);
    if (generation !== this.generation) return;
    this.pollInFlight = false;
    if (failure === null) return this.becomeReady(generation);
    const waited = this.clock.now() - this.startedAt;
    if (waited >= this.options.tokenizer.startTimeoutMs) {
      this.startFailed(generation, `no answer to GET /bos_id within ${this.options.tokenizer.startTimeoutMs} ms (${failure})`);
    } else {
      this.schedule(generation, START_POLL_MS, () => this.pollStart(generation));
    }
  }

  private becomeReady(generation: number): void {
    this.readySince = this.clock.now();
    this.update({ state: 'ready' });
    const snapshot = this.snapshot();
    this.logger.log(
      `tokenizer ready (pid ${snapshot.pid}${snapshot.source ? `, tokenizer files from ${snapshot.source}` : ''}) after ${this.readySince - this.startedAt} ms`,
    );
    this.scheduleHealthCheck(generation);
  }

  private startFailed(generation: number, reason: string): void {
    if (generation !== this.generation) return;
    this.scheduleRestart(reason, 'failed');
  }

  // ------------------------------------------------------------------ while running

  private scheduleHealthCheck(generation: number): void {
    this.schedule(generation, this.options.tokenizer.healthIntervalMs, () => this.checkHealth(generation));
  }

  private async checkHealth(generation: number): Promise<void> {
    const { host, port, healthTimeoutMs, healthFailures } = this.options.tokenizer;
    const failure = await this.probe.bosId(host, port, healthTimeoutMs);
    if (generation !== this.generation) return;
    if (failure === null) {
      this.healthFailuresInRow = 0;
      this.scheduleHealthCheck(generation);
      return;
    }
    this.healthFailuresInRow += 1;
    this.logger.warn(`tokenizer health check failed (${this.healthFailuresInRow}/${healthFailures}): ${failure}`);
    if (this.healthFailuresInRow >= healthFailures) {
      this.scheduleRestart(`${this.healthFailuresInRow} health checks failed in a row (last: ${failure})`, 'restarting');
    } else {
      this.scheduleHealthCheck(generation);
    }
  }

  private onExit(generation: number, child: TokenizerChild, exit: TokenizerExit): void {
    if (this.child === child) this.child = null;
    if (generation !== this.generation) return; // an exit we caused (restart, stop)
    const how = describeExit(exit);
    // A process that ended by itself with an error status said why last (a signal leaves no last words).
    const why = lastWords(exit.error || exit.signal || !exit.code ? null : child.lastOutputLine(), this.options.tokenizer.port);
    if (this.snapshot().state === 'ready') {
      this.scheduleRestart(`the process exited (${how})${why}`, 'restarting');
    } else {
      this.startFailed(generation, `the process exited before it was ready (${how})${why}`);
    }
  }

  private onMessage(generation: number, message: unknown): void {
    if (generation !== this.generation || !isProcessMessage(message)) return;
    if (message.type === 'ready') {
      this.ipcReady = true;
      this.update({ source: message.source });
      const state = this.snapshot().state;
      // It says it listens: check right away instead of at the next poll.
      if ((state === 'starting' || state === 'restarting') && !this.pollInFlight) {
        this.schedule(generation, 0, () => this.pollStart(generation));
      }
    }
    this.messageSubject.next(message);
  }

  // ------------------------------------------------------------------ restarts

  /** Kills what is left of the current process and launches a new one after the back-off delay. */
  private scheduleRestart(reason: string, state: Extract<TokenizerStateName, 'restarting' | 'failed'>): void {
    if (this.stopped) return;
    const now = this.clock.now();
    if (this.readySince !== null && now - this.readySince >= this.options.tokenizer.restartMaxDelayMs) this.backoff.reset();
    this.readySince = null;
    const generation = ++this.generation;
    this.clearTimer();
    const old = this.child;
    this.child = null;
    old?.kill('SIGKILL'); // hung or half-started: nothing to save
    const delay = this.backoff.next();
    this.update({ state, pid: null, lastError: reason });
    this.logger.warn(
      `tokenizer ${state === 'failed' ? 'failed to start' : 'stopped working'}: ${reason}; restart #${this.snapshot().restarts + 1} in ${delay} ms`,
    );
    this.schedule(generation, delay, async () => {
      // The port is only free once the old process is gone.
      if (old && !old.exited) await this.waitForExit(old, KILL_WAIT_MS);
      if (generation !== this.generation || this.stopped) return;
      this.update({ restarts: this.snapshot().restarts + 1 });
      this.launch('restarting');
    });
  }

  private async terminate(child: TokenizerChild | null, graceMs: number): Promise<void> {
    if (!child || child.exited) return;
    await stopGracefully(
      { pid: child.pid ?? 0, exited: exitOf(child), signal: (signal) => child.kill(signal) },
      {
        graceMs,
        clock: this.clock,
        onEscalate: (signal) => {
          if (signal === 'SIGKILL') this.logger.warn(`the tokenizer (pid ${child.pid}) ignored SIGTERM for ${graceMs} ms: SIGKILL`);
        },
      },
    );
  }

  /** True when the child exited within `ms`. */
  private waitForExit(child: TokenizerChild, ms: number): Promise<boolean> {
    return waitFor(from(exitOf(child)).pipe(map(() => true)), Boolean, ms, this.clock);
  }

  // ------------------------------------------------------------------ helpers

  private schedule(generation: number, ms: number, task: () => void | Promise<void>): void {
    this.clearTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      if (generation !== this.generation) return;
      Promise.resolve()
        .then(task)
        .catch((error: unknown) => this.logger.error(`tokenizer supervision error: ${(error as Error).message}`));
    }, ms);
  }

  private clearTimer(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private update(patch: Partial<TokenizerSnapshot>): void {
    this.snapshotSubject.next({ ...this.snapshotSubject.value, ...patch });
  }

  private newBackoff(): ExponentialBackoff {
    return new ExponentialBackoff(this.options.tokenizer.restartInitialDelayMs, this.options.tokenizer.restartMaxDelayMs);
  }

  private warnAboutMode(): void {
    const { limitations, mode } = this.strategyInUse;
    if (limitations.length === 0) return;
    this.logger.warn(`${mode} tokenizer mode (${this.options.tokenizer.python} qwen2.5_tokenizer.py): ${limitations.join('; ')}`);
  }
}

/** Resolves when the child has exited (at once if it has). */
function exitOf(child: TokenizerChild): Promise<void> {
  return child.exited ? Promise.resolve() : new Promise((resolve) => child.onExit(() => resolve()));
}

function describeExit(exit: TokenizerExit): string {
  if (exit.error) return exit.error;
  if (exit.signal) return `signal ${exit.signal}`;
  return `code ${exit.code}`;
}

/** `: <the process's last line> — <hint>`, or '' when it printed nothing. */
function lastWords(line: string | null, port: number): string {
  if (!line) return '';
  const hint = tokenizerFailureHint(line, port);
  return `: ${line}${hint ? ` — ${hint}` : ''}`;
}

/** What to do about a tokenizer that failed with `line` (its last output line or a start error), when known. */
export function tokenizerFailureHint(line: string, port: number): string | null {
  if (/EADDRINUSE|address already in use/i.test(line)) {
    return `port ${port} is taken by another program: stop it, or set tokenizer.port (QWEN_TOKENIZER_PORT) to a free port`;
  }
  if (/qwen2\.5_tokenizer|tokenizer\.json|ENOENT/i.test(line)) return 'the tokenizer files are missing: run scripts/download_models.sh';
  return null;
}

function isProcessMessage(message: unknown): message is TokenizerProcessMessage {
  return typeof message === 'object' && message !== null && MESSAGE_TYPES.has((message as { type?: unknown }).type as string);
}
