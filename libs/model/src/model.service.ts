import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { TokenizerClient, TokenizerSupervisor } from '@qwen/tokenizer';
import type { RegisterPromptResponse, TokenizerEvent } from '@qwen/tokenizer/tokenizer.contract';
import { ContextLengthExceededError, TokenizerUnavailableError } from '@qwen/tokenizer/tokenizer.contract';
import { join } from 'node:path';
import { BehaviorSubject, Observable, Subscriber, Subscription } from 'rxjs';
import { GenerationQueue, QueueTicket } from './generation-queue';
import { ModelClock, TimerHandle } from './model-clock';
import {
  FinishReason,
  GenerationEvent,
  GenerationRequest,
  GenerationTimeoutError,
  ModelProcessError,
  ModelSnapshot,
  ModelUnavailableError,
} from './model.contract';
import { MODEL_OPTIONS, ModelModuleOptions } from './model.options';
import { OutputTail } from './output-tail';
import { FramerEvent, ReplFramer } from './repl-framer';
import { RunnerHandle, RunnerProcess } from './runner-process';
import { RunnerPidFile } from './runner-pid-file';
import { StopSequenceCutter } from './stop-sequence-cutter';
import { upstreamRunnerArgs } from './upstream-launch';

/** Silence allowed after a "device is dead" line before the device is declared dead. */
const DEVICE_DEAD_SILENCE_MS = 3000;
/** A handle this close to expiry is registered again before it is typed. */
const HANDLE_EXPIRY_MARGIN_MS = 5000;

/** One request from subscription to its last event. */
interface Job {
  readonly request: GenerationRequest;
  readonly subscriber: Subscriber<GenerationEvent>;
  readonly subscribedAt: number;
  /** Registered at subscription (null if the tokenizer was unreachable then: registered again at its turn). */
  registration: Promise<RegisterPromptResponse | null>;
  /** The tokenizer process that holds the registered handle (a restarted one has forgotten it). */
  tokenizerPid: number | null;
  ticket: QueueTicket | null;
  /** The client went away: nothing more is emitted. */
  cancelled: boolean;
  /** Its Observable already ended (error or done). */
  ended: boolean;
}

/** The generation the runner is working on. */
interface ActiveTurn {
  readonly job: Job;
  readonly handle: string;
  readonly promptTokens: number;
  readonly maxTokens: number;
  readonly typedAt: number;
  readonly queuedMs: number;
  readonly cutter: StopSequenceCutter;
  firstTextAt: number | null;
  /** What the client was given (upstream tokenizer mode counts its tokens for usage). */
  emitted: string;
  stopHit: boolean;
  /** The generation must stop (max_tokens, stop string, client gone, deadline, reload). */
  stopWanted: boolean;
  /** The runner has read the typed line (the tokenizer saw its /encode, or text came). */
  lineRead: boolean;
  /** Ctrl-C sent while the prompt was being read in (it may not count: sent again at the first text). */
  ctrlCBeforeText: boolean;
  /** Ctrl-C sent while text was being generated (the runner checks its stop flag per token). */
  ctrlCDuringText: boolean;
  footerTokensPerSecond: number | null;
  /** Output is no longer the client's (it failed, or the client left): discard it. */
  discard: boolean;
  deadline: TimerHandle | null;
}

type Phase = 'idle' | 'starting' | 'loading' | 'ready' | 'busy';

/**
 * Keeps ONE runner process loaded and is the one path from HTTP to it.
 *
 * - The runner is started once (after the tokenizer is ready) and kept; requests are queued FIFO
 *   and run one at a time. Only a single-line handle is ever typed into its terminal.
 * - A crash fails the request in flight (ModelProcessError), keeps the queue, and restarts the
 *   runner with exponential back-off; repeated failed starts or a dead device stop the restarts
 *   (state `failed`) until an operator reloads.
 */
@Injectable()
export class ModelService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ModelService.name);
  private readonly snapshotSubject: BehaviorSubject<ModelSnapshot>;
  private readonly queue: GenerationQueue<Job>;
  private readonly tail = new OutputTail(50);
  private options: ModelModuleOptions;

  private runner: RunnerHandle | null = null;
  private framer = new ReplFramer();
  private phase: Phase = 'idle';
  private turn: ActiveTurn | null = null;
  /** Set while we stop the runner on purpose (reload, shutdown): its exit is not a failure. */
  private intentionalStop = false;
  private accepting = true;
  private restartTimer: TimerHandle | null = null;
  private loadTimer: TimerHandle | null = null;
  private hangTimer: TimerHandle | null = null;
  private deviceDeadSuspected = false;
  private crashStreak = 0;
  private readonly exitWaiters: Array<() => void> = [];
  private readonly readyWaiters: Array<() => void> = [];
  private tokenizerEvents: Subscription | null = null;

  constructor(
    @Inject(MODEL_OPTIONS) options: ModelModuleOptions,
    private readonly runnerProcess: RunnerProcess,
    private readonly pidFile: RunnerPidFile,
    private readonly tokenizer: TokenizerSupervisor,
    private readonly tokenizerClient: TokenizerClient,
    private readonly clock: ModelClock,
  ) {
    this.options = options;
    this.queue = new GenerationQueue<Job>({
      maxLength: options.model.queueMaxLength,
      maxWaitMs: options.model.queueMaxWaitMs,
      clock: clock,
      onTimeout: (job, error) => this.endWithError(job, error),
    });
    this.snapshotSubject = new BehaviorSubject<ModelSnapshot>({
      state: 'stopped',
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
      queue: { length: 0, limit: options.model.queueMaxLength, inFlight: 0 },
    });
  }

  /** Emits every state change (for health and metrics). */
  get snapshots$(): Observable<ModelSnapshot> {
    return this.snapshotSubject.asObservable();
  }

  snapshot(): ModelSnapshot {
    const current = this.snapshotSubject.value;
    return { ...current, queue: this.queueCounts() };
  }

  onApplicationBootstrap(): void {
    this.tokenizerEvents = this.tokenizer.events$.subscribe((event) => this.onTokenizerEvent(event));
    void this.startRunner();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.shutdown({ force: true });
    this.tokenizerEvents?.unsubscribe();
  }

  /**
   * Cold Observable: subscribing enqueues the request; unsubscribing cancels it (drops its queue
   * place, or stops its generation with Ctrl-C). Emits 'start', then 'delta'*, then 'done', then
   * completes; or errors with a ModelError / TokenizerUnavailableError / ContextLengthExceededError.
   */
  generate(request: GenerationRequest): Observable<GenerationEvent> {
    return new Observable<GenerationEvent>((subscriber) => {
      const refusal = this.refusal();
      if (refusal) {
        subscriber.error(refusal);
        return undefined;
      }
      const job: Job = {
        request,
        subscriber,
        subscribedAt: this.clock.now(),
        registration: this.register(request).catch((error: unknown) => {
          if (error instanceof ContextLengthExceededError) throw error;
          return null;
        }),
        tokenizerPid: this.tokenizer.snapshot().pid,
        ticket: null,
        cancelled: false,
        ended: false,
      };
      // A prompt that cannot fit fails at once, before it waits in the queue.
      job.registration.catch((error: unknown) => {
        if (job.ticket && this.queue.cancel(job.ticket)) this.endWithError(job, error);
      });
      try {
        job.ticket = this.queue.enqueue(job);
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      this.publish();
      this.pump();
      return () => this.cancel(job);
    });
  }

  /**
   * Restarts the runner gracefully: waits for the request in flight (or cancels it when force),
   * stops the runner with "q", runs `beforeStart` (AdminModule restarts the tokenizer there), then
   * starts a new runner with `options` (or the current ones). Also leaves the `failed` state.
   * Resolves once the new runner has been spawned (loading continues; watch snapshots$).
   */
  async reload(opts: { force?: boolean; options?: ModelModuleOptions; beforeStart?: () => Promise<void> } = {}): Promise<void> {
    this.logger.log(`reload requested${opts.force ? ' (force)' : ''}`);
    this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await this.finishTurn(opts.force ?? false, 'the request was cancelled by an operator reload');
    await this.stopRunner();
    if (opts.beforeStart) await opts.beforeStart();
    if (opts.options) this.options = opts.options;
    this.crashStreak = 0;
    this.deviceDeadSuspected = false;
    this.update({ consecutiveFailures: 0, deviceDead: false, lastError: null, outputTail: [] });
    this.accepting = true;
    await this.startRunner();
  }

  /** Stops accepting requests, finishes (or with force cancels) the one in flight, stops the runner with "q". */
  async shutdown(opts: { force?: boolean } = {}): Promise<void> {
    if (!this.accepting && this.phase === 'idle' && !this.runner) return;
    this.accepting = false;
    this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = null;
    for (const job of this.queue.drain()) this.endWithError(job, new ModelUnavailableError('the service is shutting down'));
    await this.finishTurn(opts.force ?? false, 'the service is shutting down');
    await this.stopRunner();
    this.setPhase('idle', 'stopped');
  }

  // ---------------------------------------------------------------- requests

  private refusal(): Error | null {
    if (!this.accepting) return new ModelUnavailableError('the service is shutting down or reloading', 10);
    const tokenizer = this.tokenizer.snapshot();
    if (tokenizer.state !== 'ready') {
      return new TokenizerUnavailableError(`tokenizer unavailable (${tokenizer.state})`);
    }
    const state = this.snapshotSubject.value;
    if (state.state === 'failed') {
      return new ModelUnavailableError(`the model failed: ${state.lastError ?? 'unknown error'}; an operator must reload it`, 60);
    }
    if (this.phase !== 'ready' && this.phase !== 'busy') {
      return new ModelUnavailableError(`the model is ${state.state === 'restarting' ? 'restarting' : 'loading'}`, 10);
    }
    return null;
  }

  private register(request: GenerationRequest): Promise<RegisterPromptResponse> {
    const contextWindow = this.snapshotSubject.value.maxTokenLen ?? 1024;
    const promise = this.tokenizerClient.registerPrompt({
      messages: request.messages,
      prompt: request.prompt,
      contextWindow,
      maxTokens: request.maxTokens,
    });
    promise.catch(() => undefined); // handled where it is awaited
    return promise;
  }

  private cancel(job: Job): void {
    if (job.ended) return;
    job.cancelled = true;
    job.ended = true;
    if (job.ticket && this.queue.cancel(job.ticket)) {
      this.publish();
      return;
    }
    const turn = this.turn;
    if (turn && turn.job === job) {
      turn.discard = true;
      this.interrupt(turn);
    }
  }

  private endWithError(job: Job, error: unknown): void {
    if (job.ended) return;
    job.ended = true;
    job.subscriber.error(error);
    this.publish();
  }

  // ---------------------------------------------------------------- turns

  /** Starts the next queued request when the runner waits at its prompt. */
  private pump(): void {
    if (this.phase !== 'ready' || this.turn || !this.runner) return;
    const job = this.queue.next();
    if (!job) return;
    this.setPhase('busy', 'busy');
    void this.startTurn(job);
  }

  private async startTurn(job: Job): Promise<void> {
    let registration: RegisterPromptResponse;
    try {
      const early = await job.registration;
      const tokenizerPid = this.tokenizer.snapshot().pid;
      if (!early || early.expiresAt - this.clock.now() < HANDLE_EXPIRY_MARGIN_MS || tokenizerPid !== job.tokenizerPid) {
        // Not registered yet, expiring, or registered with a tokenizer process since restarted.
        registration = await this.register(job.request);
        job.tokenizerPid = tokenizerPid;
      } else {
        registration = early;
      }
    } catch (error) {
      this.endWithError(job, error);
      this.afterTurn();
      return;
    }
    const runner = this.runner;
    if (job.ended || !runner || this.phase !== 'busy') {
      this.afterTurn();
      return;
    }
    const now = this.clock.now();
    const turn: ActiveTurn = {
      job,
      handle: registration.handle,
      promptTokens: registration.promptTokens,
      maxTokens: registration.maxTokens,
      typedAt: now,
      queuedMs: now - job.subscribedAt,
      cutter: new StopSequenceCutter(job.request.stop ?? []),
      firstTextAt: null,
      emitted: '',
      stopHit: false,
      stopWanted: false,
      lineRead: false,
      ctrlCBeforeText: false,
      ctrlCDuringText: false,
      footerTokensPerSecond: null,
      discard: false,
      deadline: null,
    };
    this.turn = turn;
    // Typed before anything is emitted, so a client that leaves on 'start' cancels a typed line.
    this.framer.beginTurn(registration.handle);
    runner.write(`${registration.handle}\n`);
    this.armHangTimer();
    turn.deadline = this.clock.setTimeout(() => this.onDeadline(turn), this.options.model.requestTimeoutMs);
    this.publish();
    job.subscriber.next({
      type: 'start',
      promptTokens: registration.promptTokens,
      maxTokens: registration.maxTokens,
      droppedMessages: registration.droppedMessages,
      queuedMs: turn.queuedMs,
    });
  }

  private onText(text: string): void {
    const turn = this.turn;
    if (!turn) return;
    turn.firstTextAt ??= this.clock.now();
    turn.lineRead = true;
    this.sendCtrlCIfWanted(turn);
    if (turn.discard || turn.stopHit) return;
    const { emit, stopped } = turn.cutter.push(text);
    if (emit) this.emitText(turn, emit);
    if (stopped) {
      turn.stopHit = true;
      this.interrupt(turn);
    }
  }

  /** The runner is back at ">> " after a turn: report usage and finish the request. */
  private async onTurnEnded(turn: ActiveTurn): Promise<void> {
    this.clock.clearTimeout(turn.deadline);
    this.clock.clearTimeout(this.hangTimer);
    this.hangTimer = null;
    if (!turn.discard && !turn.job.ended) {
      if (!turn.stopHit) {
        const rest = turn.cutter.flush();
        if (rest) this.emitText(turn, rest);
      }
      const generated = await this.generatedTokens(turn);
      const completionTokens = Math.min(generated, turn.maxTokens);
      const finishReason: FinishReason = turn.stopHit ? 'stop' : generated >= turn.maxTokens ? 'length' : 'stop';
      const end = this.clock.now();
      const firstText = turn.firstTextAt ?? end;
      turn.job.ended = true;
      turn.job.subscriber.next({
        type: 'done',
        finishReason,
        usage: { promptTokens: turn.promptTokens, completionTokens },
        timings: {
          queuedMs: turn.queuedMs,
          ttftMs: turn.firstTextAt === null ? null : turn.firstTextAt - turn.typedAt,
          promptEvalMs: firstText - turn.typedAt,
          evalMs: end - firstText,
          totalMs: end - turn.job.subscribedAt,
        },
        runnerTokensPerSecond: turn.footerTokensPerSecond,
      });
      turn.job.subscriber.complete();
      this.crashStreak = 0;
    }
    if (this.turn === turn) this.turn = null;
    this.afterTurn();
  }

  private emitText(turn: ActiveTurn, text: string): void {
    turn.emitted += text;
    turn.job.subscriber.next({ type: 'delta', text });
  }

  /**
   * Exact generated ids from the runner's final /decode (our tokenizer server's turn report). The
   * upstream tokenizer keeps no turns: there the answer's tokens are counted with its /encode.
   */
  private async generatedTokens(turn: ActiveTurn): Promise<number> {
    try {
      if (this.tokenizer.snapshot().mode === 'upstream') return await this.tokenizerClient.countUpstreamTokens(turn.emitted);
      return (await this.tokenizerClient.turn(turn.handle)).generatedIds.length;
    } catch (error) {
      this.logger.warn(`no token count for the request ${turn.job.request.requestId}: ${(error as Error).message}`);
      return Math.ceil(turn.emitted.length / 4);
    }
  }

  private afterTurn(): void {
    this.queue.complete();
    if (this.phase === 'busy') this.setPhase('ready', 'ready');
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    this.publish();
    this.pump();
  }

  /** Stops the current generation (max_tokens, stop string, client gone, deadline): Ctrl-C. */
  private interrupt(turn: ActiveTurn): void {
    turn.stopWanted = true;
    this.sendCtrlCIfWanted(turn);
  }

  /**
   * Ctrl-C only once the runner has read the typed line (before that it is ignored: at ">> " a
   * Ctrl-C does nothing). One Ctrl-C while the prompt is read in, and one more at the first text if
   * the first did not stop it (the runner only honours its stop flag while generating). The pty is
   * set to `noflsh` (RunnerProcess), so a Ctrl-C never discards a typed line or the next ">> ".
   */
  private sendCtrlCIfWanted(turn: ActiveTurn): void {
    if (!turn.stopWanted || this.turn !== turn || !turn.lineRead || !this.runner) return;
    if (turn.firstTextAt === null) {
      if (turn.ctrlCBeforeText) return;
      turn.ctrlCBeforeText = true;
    } else {
      if (turn.ctrlCDuringText) return;
      turn.ctrlCDuringText = true;
    }
    this.runner.write('\x03');
  }

  private onDeadline(turn: ActiveTurn): void {
    if (this.turn !== turn) return;
    this.logger.warn(`request ${turn.job.request.requestId} ran past ${this.options.model.requestTimeoutMs} ms: stopping it`);
    this.failTurn(turn, new GenerationTimeoutError(this.options.model.requestTimeoutMs));
    this.interrupt(turn);
  }

  private failTurn(turn: ActiveTurn, error: Error): void {
    turn.discard = true;
    this.endWithError(turn.job, error);
  }

  /** Waits for the turn in flight to end; with force, cancels it first. */
  private async finishTurn(force: boolean, reason: string): Promise<void> {
    const turn = this.turn;
    if (!turn) return;
    if (force) {
      this.failTurn(turn, new ModelUnavailableError(reason, 10));
      this.interrupt(turn);
    }
    await this.waitFor(this.readyWaiters, () => this.turn === null, this.options.model.stopGraceMs + (force ? 0 : this.options.model.requestTimeoutMs));
  }

  private onTokenizerEvent(event: TokenizerEvent): void {
    const turn = this.turn;
    if (!turn || event.type === 'ready' || event.handle !== turn.handle) return;
    turn.lineRead = true;
    if (event.type === 'turn-start') {
      this.sendCtrlCIfWanted(turn);
      return;
    }
    this.armHangTimer();
    if (event.limitReached) this.interrupt(turn);
  }

  // ---------------------------------------------------------------- the runner process

  private async startRunner(): Promise<void> {
    if (!this.accepting || this.runner) return;
    this.setPhase('starting', 'waiting-for-tokenizer');
    try {
      await this.tokenizer.whenReady();
    } catch (error) {
      this.onStartFailed(`the tokenizer is not available: ${(error as Error).message}`);
      return;
    }
    if (!this.accepting || this.runner) return;
    const { model, paths, tokenizer } = this.options;
    const binary = model.runnerBinary === 'auto' ? (process.arch === 'arm64' ? 'main_axcl_aarch64' : 'main_axcl_x86') : model.runnerBinary;
    let runner: RunnerHandle;
    try {
      await this.pidFile.stopStale(paths.runDir, model.stopGraceMs);
      runner = await this.runnerProcess.spawn({
        binary: `./${binary}`,
        args: upstreamRunnerArgs(`http://${tokenizer.host}:${tokenizer.port}`, ''),
        cwd: paths.modelDir,
        env: { ...stringEnv(process.env), ...this.options.runnerEnv },
        logFile: join(paths.logDir, 'model.log'),
      });
    } catch (error) {
      this.onStartFailed(`cannot start ${binary} in ${paths.modelDir}: ${(error as Error).message}`);
      return;
    }
    this.runner = runner;
    this.framer = new ReplFramer();
    this.tail.clear();
    this.deviceDeadSuspected = false;
    this.intentionalStop = false;
    const current = this.snapshotSubject.value;
    this.update({ pid: runner.pid, startedAt: new Date(this.clock.now()).toISOString(), loads: current.loads + 1, progress: null });
    this.setPhase('loading', 'loading');
    this.logger.log(`runner ${binary} started (pid ${runner.pid}), loading the model`);
    runner.onData((chunk) => this.onOutput(runner, chunk));
    runner.onExit((exit) => this.onExit(runner, exit.exitCode, exit.signal));
    await this.pidFile.write(paths.runDir, runner.pid).catch((error: Error) => this.logger.warn(`cannot write the pid file: ${error.message}`));
    this.loadTimer = this.clock.setTimeout(() => {
      if (this.runner !== runner || this.phase !== 'loading') return;
      this.recordError(`the model did not finish loading within ${model.loadTimeoutMs} ms`);
      runner.signalGroup('SIGKILL');
    }, model.loadTimeoutMs);
  }

  private onOutput(runner: RunnerHandle, chunk: string): void {
    if (runner !== this.runner) return;
    this.tail.push(chunk);
    if (this.turn) this.armHangTimer();
    for (const event of this.framer.push(chunk)) this.onFramerEvent(event);
  }

  private onFramerEvent(event: FramerEvent): void {
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
        this.onText(event.text);
        break;
      case 'footer':
        if (this.turn) this.turn.footerTokensPerSecond = event.tokensPerSecond;
        this.update({ lastTokensPerSecond: event.tokensPerSecond });
        break;
      case 'device-dead-suspected':
        this.deviceDeadSuspected = true;
        if (!this.turn) this.declareDeviceDead(event.line);
        else this.armHangTimer();
        break;
      case 'ready':
        this.onRunnerReady();
        break;
      default:
        break;
    }
  }

  private onRunnerReady(): void {
    if (this.phase === 'loading') {
      this.clock.clearTimeout(this.loadTimer);
      this.loadTimer = null;
      const s = this.snapshotSubject.value;
      this.logger.log(`model loaded (pid ${s.pid}, max_token_len ${s.maxTokenLen ?? '?'})`);
      this.update({ consecutiveFailures: 0, progress: null });
      this.setPhase('ready', 'ready');
      for (const resolve of this.readyWaiters.splice(0)) resolve();
      this.pump();
    } else if (this.turn) {
      this.deviceDeadSuspected = false;
      void this.onTurnEnded(this.turn);
    }
  }

  private onExit(runner: RunnerHandle, exitCode: number, signal: number | null): void {
    if (runner !== this.runner) return;
    this.runner = null;
    this.clock.clearTimeout(this.loadTimer);
    this.clock.clearTimeout(this.hangTimer);
    this.loadTimer = this.hangTimer = null;
    void this.pidFile.remove(this.options.paths.runDir).catch(() => undefined);
    const wasLoading = this.phase === 'loading';
    const how = signal ? `signal ${signal}` : `status ${exitCode}`;
    for (const resolve of this.exitWaiters.splice(0)) resolve();
    const turn = this.turn;
    this.turn = null;
    if (turn) {
      this.clock.clearTimeout(turn.deadline);
      this.failTurn(turn, new ModelProcessError(`the model process failed during the request (exit ${how})`));
      this.queue.complete();
    }
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    if (this.intentionalStop) {
      this.update({ pid: null });
      return;
    }
    const s = this.snapshotSubject.value;
    const reason = s.deviceDead ? s.lastError : `the runner exited with ${how}${wasLoading ? ' while loading' : ''}`;
    this.logger.error(reason ?? 'the runner exited');
    this.recordError(reason ?? 'the runner exited');
    if (wasLoading) this.update({ consecutiveFailures: s.consecutiveFailures + 1 });
    else this.crashStreak += 1;
    this.scheduleRestart();
  }

  private onStartFailed(reason: string): void {
    this.logger.error(reason);
    this.recordError(reason);
    this.update({ consecutiveFailures: this.snapshotSubject.value.consecutiveFailures + 1 });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const s = this.snapshotSubject.value;
    const { model } = this.options;
    if (!this.accepting) {
      this.setPhase('idle', 'stopped');
      return;
    }
    if (s.deviceDead || s.consecutiveFailures >= model.maxConsecutiveFailures) {
      const why = s.deviceDead ? 'the NPU device is dead (reboot the machine)' : `${s.consecutiveFailures} consecutive failed starts`;
      this.logger.error(`not restarting the runner: ${why}; POST /admin/reload to try again`);
      this.update({ outputTail: this.tail.snapshot() });
      this.setPhase('idle', 'failed');
      for (const job of this.queue.drain()) this.endWithError(job, new ModelUnavailableError(`the model failed: ${why}`, 60));
      return;
    }
    const attempt = Math.max(s.consecutiveFailures, this.crashStreak, 1);
    const delay = Math.min(model.restartInitialDelayMs * 2 ** (attempt - 1), model.restartMaxDelayMs);
    this.update({ restarts: s.restarts + 1, outputTail: this.tail.snapshot() });
    this.setPhase('idle', 'restarting');
    this.logger.warn(`restarting the runner in ${delay} ms (restart ${s.restarts + 1})`);
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = null;
      void this.startRunner();
    }, delay);
  }

  /** A busy runner that prints nothing for too long is hung (or its device died). */
  private armHangTimer(): void {
    this.clock.clearTimeout(this.hangTimer);
    const turn = this.turn;
    const runner = this.runner;
    if (!turn || !runner) return;
    const { hangTimeoutMs, prefillMsPerToken } = this.options.model;
    const allowance = this.deviceDeadSuspected
      ? DEVICE_DEAD_SILENCE_MS
      : hangTimeoutMs + (turn.firstTextAt === null ? turn.promptTokens * prefillMsPerToken : 0);
    this.hangTimer = this.clock.setTimeout(() => {
      if (this.runner !== runner || this.turn !== turn) return;
      if (this.deviceDeadSuspected) {
        this.declareDeviceDead('the runner went silent after reporting a dead device');
        return;
      }
      this.logger.error(`the runner printed nothing for ${allowance} ms while busy: killing it`);
      this.recordError(`the runner stopped responding (no output for ${allowance} ms)`);
      this.failTurn(turn, new ModelProcessError('the model process stopped responding'));
      runner.signalGroup('SIGKILL');
    }, allowance);
  }

  private declareDeviceDead(line: string): void {
    this.logger.error(`the NPU device is dead: ${line}`);
    this.update({ deviceDead: true, lastError: `the NPU device is dead: ${line}`, outputTail: this.tail.snapshot() });
    const turn = this.turn;
    if (turn) this.failTurn(turn, new ModelProcessError('the NPU device died during the request'));
    this.runner?.signalGroup('SIGKILL');
  }

  /** "q" at the prompt, then SIGTERM, then SIGKILL to the process group. Never closes its input. */
  private async stopRunner(): Promise<void> {
    const runner = this.runner;
    if (!runner) return;
    this.intentionalStop = true;
    const grace = this.options.model.stopGraceMs;
    if (this.turn) {
      this.interrupt(this.turn);
      await this.waitFor(this.readyWaiters, () => this.turn === null || this.runner !== runner, grace);
    }
    if (this.phase === 'ready') runner.write('q\n');
    if (!(await this.waitFor(this.exitWaiters, () => this.runner !== runner, grace))) {
      runner.signalGroup('SIGTERM');
      if (!(await this.waitFor(this.exitWaiters, () => this.runner !== runner, grace))) {
        runner.signalGroup('SIGKILL');
        await this.waitFor(this.exitWaiters, () => this.runner !== runner, grace);
      }
    }
    this.logger.log(`runner stopped (pid ${runner.pid})`);
    this.setPhase('idle', 'stopped');
  }

  /** Resolves true when `done()` holds, checked whenever a waiter of the list is woken; false on timeout. */
  private waitFor(waiters: Array<() => void>, done: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (done()) return resolve(true);
      const timer = this.clock.setTimeout(() => resolve(done()), timeoutMs);
      const check = (): void => {
        if (done()) {
          this.clock.clearTimeout(timer);
          resolve(true);
        } else {
          waiters.push(check);
        }
      };
      waiters.push(check);
    });
  }

  // ---------------------------------------------------------------- state

  private setPhase(phase: Phase, state: ModelSnapshot['state']): void {
    this.phase = phase;
    this.update({ state });
  }

  private recordError(message: string): void {
    this.update({ lastError: message });
  }

  private update(patch: Partial<ModelSnapshot>): void {
    this.snapshotSubject.next({ ...this.snapshotSubject.value, ...patch, queue: this.queueCounts() });
  }

  private publish(): void {
    this.update({});
  }

  private queueCounts(): ModelSnapshot['queue'] {
    return { length: this.queue.length, limit: this.options.model.queueMaxLength, inFlight: this.turn ? 1 : 0 };
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}
