import { Inject, Injectable, Logger } from '@nestjs/common';
import { childEnvironment, Clock, ExponentialBackoff, stopGracefully, TimerHandle } from '@qwen/supervision';
import { join, resolve } from 'node:path';
import { TokenizerBridge } from '@qwen/tokenizer';
import { BehaviorSubject, Observable, Subject } from 'rxjs';
import type { ModelSnapshot } from './model.contract';
import { MODEL_OPTIONS, ModelModuleOptions } from './model.options';
import { OutputTail } from './output-tail';
import { postConfigFile } from './post-config';
import { FramerEvent, ReplFramer } from './repl-framer';
import { explainRunnerFailure, launchFailureHint } from './runner-failure-cause';
import { RunnerPidFile } from './runner-pid-file';
import { RunnerHandle, RunnerProcess } from './runner-process';
import { POST_CONFIG_FILE, upstreamRunnerArgs } from './upstream-launch';

/** The runner's working directory, under the run directory. */
export const RUNNER_WORK_DIR = 'runner';

/** Lines kept from a load for the cause of its failure (the first ones: the cause comes before the exit). */
const MAX_LOAD_LINES = 40;

/** What an operator does about a dead NPU (restarting the runner does not help and floods the kernel log). */
export const DEVICE_DEAD_HINT = 'Only a reboot of the machine brings the card back; then POST /admin/reload (or restart the service).';

/** The runner's lifecycle: not running, waiting for the tokenizer, loading, at its prompt, waiting to restart, given up. */
export type RunnerPhase = 'stopped' | 'waiting-for-tokenizer' | 'loading' | 'ready' | 'restarting' | 'failed';

/** The runner's state as operators see it (ModelSnapshot without the queue; `phase` never says busy). */
export type RunnerState = Omit<ModelSnapshot, 'state' | 'queue' | 'prompt' | 'oldestWaitMs' | 'estimatedWaitMs' | 'turn'> & { phase: RunnerPhase };

/** What the runner printed, as a turn in flight needs it. */
export type RunnerOutput =
  /** Any output at all (a heartbeat: the runner is not hung). */
  | { type: 'output' }
  | { type: 'text'; text: string }
  | { type: 'footer'; tokensPerSecond: number | null }
  /** A "device … is dead" line: real only if silence follows. */
  | { type: 'device-dead-suspected' }
  /** Back at ">> " after the typed line: the turn is over. */
  | { type: 'prompt' }
  | { type: 'exit'; how: string };

/** What a turn in flight may do to the runner (RunnerSupervisor implements it; specs fake it). */
export interface RunnerConsole {
  readonly output$: Observable<RunnerOutput>;
  /** A "device is dead" line came and nothing has proved it wrong yet. */
  readonly deviceDeadSuspected: boolean;
  /** Types one line at the prompt; false when the runner is not at its prompt. */
  type(line: string): boolean;
  /** Ctrl-C on the terminal. */
  interrupt(): void;
  /** The runner is hung: records why and kills its process group. */
  kill(reason: string): void;
  /** The NPU device is dead: records it (no restart will help) and kills the runner. */
  declareDeviceDead(line: string): void;
}

/**
 * Keeps ONE runner process: spawns it (through RunnerProcess, after the tokenizer is ready and a
 * stale runner is gone), watches its output (ReplFramer), its load timeout and its exit, and applies
 * the restart policy: exponential back-off on crashes and failed starts, and the `failed` state
 * (no more restarts until an operator reloads) after too many failed starts or a dead device.
 * Its state is `state$`; a turn in flight follows `output$`.
 */
@Injectable()
export class RunnerSupervisor implements RunnerConsole {
  private readonly logger = new Logger(RunnerSupervisor.name);
  private readonly stateSubject: BehaviorSubject<RunnerState>;
  private readonly outputSubject = new Subject<RunnerOutput>();
  private readonly tail = new OutputTail(50);
  private runner: RunnerHandle | null = null;
  private exited: Promise<void> = Promise.resolve();
  private framer = new ReplFramer();
  /** A line was typed and the runner has not come back to ">> " yet. */
  private turnTyped = false;
  /** Set while we stop the runner on purpose (reload, shutdown): its exit is not a failure. */
  private intentionalStop = false;
  /** Starts and restarts are allowed (false once stopped or suspended, until start()). */
  private enabled = true;
  private restartTimer: TimerHandle | null = null;
  private loadTimer: TimerHandle | null = null;
  /** Crashes after a healthy load, since the last turn that ended at the prompt. */
  private crashStreak = 0;
  private suspected = false;
  /** A start failed on the card itself (no permission, no driver): no restart until an operator reloads. */
  private deviceUnusable = false;
  /** Plain lines and [E] records printed while loading: the cause of a failed start is among them. */
  private loadLines: string[] = [];
  /** The "device is dead" line behind `suspected`. */
  private suspectedLine = '';

  constructor(
    @Inject(MODEL_OPTIONS) private options: ModelModuleOptions,
    private readonly runnerProcess: RunnerProcess,
    private readonly pidFile: RunnerPidFile,
    private readonly tokenizer: TokenizerBridge,
    private readonly clock: Clock,
  ) {
    this.stateSubject = new BehaviorSubject<RunnerState>({
      phase: 'stopped',
      progress: null,
      pid: null,
      startedAt: null,
      loads: 0,
      restarts: 0,
      consecutiveFailures: 0,
      lastError: null,
      outputTail: [],
      maxTokenLen: null,
      sampling: null,
      deviceDead: false,
      lastTokensPerSecond: null,
    });
  }

  get state$(): Observable<RunnerState> {
    return this.stateSubject.asObservable();
  }

  state(): RunnerState {
    return this.stateSubject.value;
  }

  get output$(): Observable<RunnerOutput> {
    return this.outputSubject.asObservable();
  }

  get deviceDeadSuspected(): boolean {
    return this.suspected;
  }

  /** New options for the next start (reload). */
  configure(options: ModelModuleOptions): void {
    this.options = options;
  }

  /** Forgets past failures (an operator reload): leaves `failed`, clears the error and the tail. */
  resetFailures(): void {
    this.crashStreak = 0;
    this.suspected = false;
    this.deviceUnusable = false;
    this.update({ consecutiveFailures: 0, deviceDead: false, lastError: null, outputTail: [] });
  }

  /** Starts the runner (once the tokenizer is ready); a failure to start is retried with back-off. */
  async start(): Promise<void> {
    this.enabled = true;
    await this.spawn();
  }

  /** No restart from now on (a pending one is cancelled) until start(). */
  suspend(): void {
    this.enabled = false;
    this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  /** Stops the runner for good: "q" at its prompt, then SIGTERM, then SIGKILL to its group. Never closes its input. */
  async stop(): Promise<void> {
    this.suspend();
    const runner = this.runner;
    if (runner) {
      this.intentionalStop = true;
      const atPrompt = this.state().phase === 'ready' && !this.turnTyped;
      await stopGracefully(
        { pid: runner.pid, exited: this.exited, write: (data) => runner.write(data), signal: (signal) => runner.signalGroup(signal) },
        {
          quitCommand: atPrompt ? 'q\n' : null,
          graceMs: this.options.model.stopGraceMs,
          clock: this.clock,
          onEscalate: (signal) => this.logger.warn(`the runner (pid ${runner.pid}) is still running: ${signal}`),
        },
      );
      this.logger.log(`runner stopped (pid ${runner.pid})`);
    }
    this.update({ phase: 'stopped' });
  }

  type(line: string): boolean {
    const runner = this.runner;
    if (!runner || this.state().phase !== 'ready' || this.turnTyped) return false;
    this.framer.beginTurn(line);
    this.turnTyped = true;
    runner.setOutputKind('model-text');
    runner.write(`${line}\n`);
    return true;
  }

  interrupt(): void {
    this.runner?.write('\x03');
  }

  kill(reason: string): void {
    this.logger.error(`${reason}: killing the runner`);
    this.update({ lastError: reason });
    this.runner?.signalGroup('SIGKILL');
  }

  declareDeviceDead(line: string): void {
    // Quote the card's own line (the runtime's "device N is dead"), whoever noticed the death.
    const why = this.suspectedLine && !line.includes(this.suspectedLine) ? `${this.suspectedLine} (${line})` : line;
    this.logger.error(`the NPU device is dead: ${why}. ${DEVICE_DEAD_HINT}`);
    this.update({ deviceDead: true, lastError: `the NPU device is dead: ${why}`, outputTail: this.tail.snapshot() });
    this.runner?.signalGroup('SIGKILL');
  }

  // ---------------------------------------------------------------- lifecycle

  private async spawn(): Promise<void> {
    if (!this.enabled || this.runner) return;
    this.update({ phase: 'waiting-for-tokenizer' });
    try {
      await this.tokenizer.whenReady();
    } catch (error) {
      // Stopped meanwhile (a shutdown stops the tokenizer after the runner): not a failed start.
      if (!this.enabled) return this.update({ phase: 'stopped' });
      this.onStartFailed(`the tokenizer is not available: ${(error as Error).message}`);
      return;
    }
    if (!this.enabled || this.runner) return;
    const { model, paths } = this.options;
    const binary = model.runnerBinary === 'auto' ? (process.arch === 'arm64' ? 'main_axcl_aarch64' : 'main_axcl_x86') : model.runnerBinary;
    let runner: RunnerHandle;
    try {
      // The runner reads post_config.json from its working directory: a directory of the service's
      // own (under the run directory) holds the one to use; the model files are given absolute.
      const modelDir = resolve(paths.modelDir);
      const workDir = resolve(paths.runDir, RUNNER_WORK_DIR);
      await this.pidFile.stopStale(paths.runDir, { binary: join(modelDir, binary), workDir }, model.stopGraceMs);
      runner = await this.runnerProcess.spawn({
        binary: join(modelDir, binary),
        args: upstreamRunnerArgs(this.tokenizer.runnerUrl(), '', modelDir),
        cwd: workDir,
        files: { [POST_CONFIG_FILE]: postConfigFile(modelDir, this.options.sampling) },
        env: childEnvironment(process.env, this.options.runnerEnv),
        logFile: join(paths.logDir, 'model.log'),
        keepModelText: model.logModelText,
      });
    } catch (error) {
      const message = (error as Error).message;
      const hint = launchFailureHint(message);
      this.onStartFailed(`cannot start ${binary} in ${paths.modelDir}: ${message}${hint ? ` — ${hint}` : ''}`);
      return;
    }
    this.runner = runner;
    this.framer = new ReplFramer();
    this.tail.clear();
    this.loadLines = [];
    this.turnTyped = false;
    this.suspected = false;
    this.intentionalStop = false;
    this.exited = new Promise<void>((resolve) => runner.onExit((exit) => this.onExit(runner, exit.exitCode, exit.signal, resolve)));
    runner.onData((chunk) => this.onOutput(runner, chunk));
    const current = this.state();
    this.update({ phase: 'loading', pid: runner.pid, startedAt: new Date(this.clock.now()).toISOString(), loads: current.loads + 1, progress: null });
    this.logger.log(`runner ${binary} started (pid ${runner.pid}), loading the model`);
    this.tokenizer.runnerStarted(runner.pid);
    await this.pidFile.write(paths.runDir, runner.pid).catch((error: Error) => this.logger.warn(`cannot write the pid file: ${error.message}`));
    this.loadTimer = this.clock.setTimeout(() => {
      if (this.runner !== runner || this.state().phase !== 'loading') return;
      this.update({ lastError: `the model did not finish loading within ${model.loadTimeoutMs} ms` });
      runner.signalGroup('SIGKILL');
    }, model.loadTimeoutMs);
  }

  private onOutput(runner: RunnerHandle, chunk: string): void {
    if (runner !== this.runner) return;
    this.tail.push(chunk);
    if (this.turnTyped) this.outputSubject.next({ type: 'output' });
    for (const event of this.framer.push(chunk)) this.onFramerEvent(event);
  }

  private onFramerEvent(event: FramerEvent): void {
    if (this.state().phase === 'loading') this.noteLoadLine(event);
    switch (event.type) {
      case 'progress':
        this.update({ progress: { step: event.step, total: event.total, text: event.text } });
        break;
      case 'max-token-len':
        this.update({ maxTokenLen: event.value });
        break;
      case 'post-config':
        this.update({ sampling: event.config });
        break;
      case 'post-config-missing':
        this.update({ sampling: { greedy: true } });
        break;
      case 'text':
        if (this.turnTyped) this.outputSubject.next({ type: 'text', text: event.text });
        break;
      case 'footer':
        this.update({ lastTokensPerSecond: event.tokensPerSecond });
        if (this.turnTyped) this.outputSubject.next({ type: 'footer', tokensPerSecond: event.tokensPerSecond });
        break;
      case 'device-dead-suspected':
        this.suspected = true;
        this.suspectedLine = event.line;
        if (this.turnTyped) this.outputSubject.next({ type: 'device-dead-suspected' });
        else this.declareDeviceDead(event.line);
        break;
      case 'ready':
        this.onPrompt();
        break;
      default:
        break;
    }
  }

  private noteLoadLine(event: FramerEvent): void {
    const line = event.type === 'line' ? event.text : event.type === 'log' && event.level === 'E' ? `[E][${event.fn}][${event.line}]: ${event.text}` : null;
    if (line === null || this.loadLines.length >= MAX_LOAD_LINES) return;
    this.loadLines.push(line);
  }

  private onPrompt(): void {
    if (this.state().phase === 'loading') {
      this.clock.clearTimeout(this.loadTimer);
      this.loadTimer = null;
      const s = this.state();
      this.logger.log(`model loaded (pid ${s.pid}, max_token_len ${s.maxTokenLen ?? '?'})`);
      this.update({ phase: 'ready', consecutiveFailures: 0, progress: null });
    } else if (this.turnTyped) {
      // Back at ">> " after a turn: the runner is healthy, whatever the turn's outcome.
      this.turnTyped = false;
      this.runner?.setOutputKind('runtime');
      this.suspected = false;
      this.crashStreak = 0;
      this.outputSubject.next({ type: 'prompt' });
    }
  }

  /**
   * RunnerHandle reports the exit only after the terminal's last output was delivered (node-pty
   * waits for the pty to close), so everything the runner printed has been framed by now.
   */
  private onExit(runner: RunnerHandle, exitCode: number, signal: number | null, exited: () => void): void {
    if (runner !== this.runner) return exited();
    this.runner = null;
    this.clock.clearTimeout(this.loadTimer);
    this.loadTimer = null;
    void this.pidFile.remove(this.options.paths.runDir).catch(() => undefined);
    const wasLoading = this.state().phase === 'loading';
    const how = signal ? `signal ${signal}` : `status ${exitCode}`;
    const turnWasTyped = this.turnTyped;
    this.turnTyped = false;
    exited();
    if (this.intentionalStop) {
      this.update({ phase: 'stopped', pid: null });
    } else {
      // Exiting after a "device is dead" line (instead of going silent) is the same death.
      if (this.suspected && !this.state().deviceDead) this.update({ deviceDead: true, lastError: `the NPU device is dead: ${this.suspectedLine} (then the runner exited)` });
      const cause = wasLoading ? explainRunnerFailure(this.loadLines) : null;
      // A card that refuses the user or has no driver is as unusable as a dead one: no restart loop.
      if (cause?.deviceLevel) this.deviceUnusable = true;
      const s = this.state();
      const exited = `the runner exited with ${how}${wasLoading ? ' while loading' : ''}`;
      const reason = cause ? `${exited}: ${cause.quote} — ${cause.hint}` : ((s.deviceDead ? s.lastError : null) ?? exited);
      this.logger.error(reason);
      this.update({ lastError: reason });
      if (wasLoading) this.update({ consecutiveFailures: s.consecutiveFailures + 1 });
      else this.crashStreak += 1;
      this.scheduleRestart();
    }
    // The turn hears of it last, when the state already says what comes next (no request is taken meanwhile).
    if (turnWasTyped) this.outputSubject.next({ type: 'exit', how });
  }

  private onStartFailed(reason: string): void {
    this.logger.error(reason);
    this.update({ lastError: reason, consecutiveFailures: this.state().consecutiveFailures + 1 });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const s = this.state();
    const { model } = this.options;
    if (!this.enabled) {
      this.update({ phase: 'stopped' });
      return;
    }
    if (s.deviceDead || this.deviceUnusable || s.consecutiveFailures >= model.maxConsecutiveFailures) {
      const why = s.deviceDead
        ? 'the NPU device is dead (reboot the machine)'
        : this.deviceUnusable
          ? 'the NPU card cannot be used (see the cause above)'
          : `${s.consecutiveFailures} consecutive failed starts`;
      this.logger.error(`not restarting the runner: ${why}; POST /admin/reload to try again`);
      this.update({ phase: 'failed', outputTail: this.tail.snapshot() });
      return;
    }
    const backoff = new ExponentialBackoff(model.restartInitialDelayMs, model.restartMaxDelayMs);
    const delay = backoff.delayFor(Math.max(s.consecutiveFailures, this.crashStreak));
    this.update({ phase: 'restarting', restarts: s.restarts + 1, outputTail: this.tail.snapshot() });
    this.logger.warn(`restarting the runner in ${delay} ms (restart ${s.restarts + 1})`);
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = null;
      void this.spawn();
    }, delay);
  }

  private update(patch: Partial<RunnerState>): void {
    this.stateSubject.next({ ...this.stateSubject.value, ...patch });
  }
}
