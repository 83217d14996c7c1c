import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock, TimerHandle, waitFor } from '@qwen/supervision';
import { RegisterPromptResponse, TokenizerBridge, TokenizerUnavailableError } from '@qwen/tokenizer';
import { BehaviorSubject, Observable, Subscriber, Subscription } from 'rxjs';
import { GenerationQueue, QueueTicket } from './generation-queue';
import { expectedPrefillMs, GenerationTurn } from './generation-turn';
import { AdmissionLimits, GenerationEvent, GenerationRequest, ModelSnapshot, ModelUnavailableError, QueueWaitTooLongError } from './model.contract';
import { MODEL_OPTIONS, ModelModuleOptions } from './model.options';
import { PromptRegistrar, PromptRegistration } from './prompt-registrar';
import { RunnerPhase, RunnerState, RunnerSupervisor } from './runner-supervisor';
import { WaitEstimator } from './wait-estimator';

/** The runner's prompt reading rate before it measured one (no batched prefill: ~14 tokens/s on the LLM-8850). */
export const NOMINAL_PREFILL_TOKENS_PER_SECOND = 14;
/** The window assumed until the runner printed its max_token_len. */
const DEFAULT_CONTEXT_WINDOW = 1024;

/** One request from subscription to its last event. */
interface Job {
  readonly request: GenerationRequest;
  readonly subscriber: Subscriber<GenerationEvent>;
  readonly subscribedAt: number;
  registration: PromptRegistration | null;
  /** Its registration's answer, once it came (the request is accepted: progress is reported from then). */
  registered: RegisterPromptResponse | null;
  /** It was told where it stands in the queue (so it hears at once when its prompt starts to be fed). */
  toldProgress: boolean;
  ticket: QueueTicket | null;
  /** On the runner (from typing its handle). */
  turn: GenerationTurn | null;
  /** Its Observable ended, or the client left, before it had a turn. */
  ended: boolean;
}

/**
 * The one path from HTTP to the runner: admits requests (or refuses them at once), queues them FIFO
 * (capacity is checked BEFORE their prompt is registered), and runs them one at a time as a
 * GenerationTurn when the runner (RunnerSupervisor) waits at its prompt. Reload and shutdown.
 */
@Injectable()
export class ModelService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ModelService.name);
  private readonly snapshotSubject: BehaviorSubject<ModelSnapshot>;
  private readonly queue: GenerationQueue<Job>;
  /** The request taken from the queue, until its turn is closed. */
  private readonly active$ = new BehaviorSubject<Job | null>(null);
  private readonly runnerStates: Subscription;
  private readonly estimator: WaitEstimator;
  /** The next progress report to the waiting requests and the turn in prefill. */
  private progressTimer: TimerHandle | null = null;
  private options: ModelModuleOptions;
  private accepting = true;
  /** The last prompt typed into the runner, for /health. */
  private lastPrompt: { tokens: number; expectedPrefillMs: number } | null = null;

  constructor(
    @Inject(MODEL_OPTIONS) options: ModelModuleOptions,
    private readonly runner: RunnerSupervisor,
    private readonly registrar: PromptRegistrar,
    private readonly tokenizer: TokenizerBridge,
    private readonly clock: Clock,
  ) {
    this.options = options;
    this.estimator = new WaitEstimator(() => this.runner.state().lastTokensPerSecond ?? this.options.model.assumedTokensPerSecond);
    this.queue = new GenerationQueue<Job>({
      maxLength: options.model.queueMaxLength,
      maxWaitMs: options.model.queueMaxWaitMs,
      clock,
      onTimeout: (job, error) => {
        this.endQueued(job, error);
        this.reportQueued();
      },
    });
    this.snapshotSubject = new BehaviorSubject<ModelSnapshot>(this.compose(runner.state()));
    let previous: RunnerPhase = runner.state().phase;
    this.runnerStates = runner.state$.subscribe((state) => {
      const entered = state.phase !== previous ? state.phase : null;
      previous = state.phase;
      this.publish();
      if (entered === 'failed') this.onRunnerFailed(state);
      if (entered === 'ready') this.pump();
    });
  }

  /** Emits every state change (for health and metrics). */
  get snapshots$(): Observable<ModelSnapshot> {
    return this.snapshotSubject.asObservable();
  }

  snapshot(): ModelSnapshot {
    return this.compose(this.runner.state());
  }

  onApplicationBootstrap(): void {
    void this.runner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.shutdown({ force: true });
    this.clock.clearTimeout(this.progressTimer);
    this.progressTimer = null;
    this.runnerStates.unsubscribe();
  }

  /**
   * Cold Observable: subscribing enqueues the request; unsubscribing cancels it (drops its queue
   * place, or stops its generation with Ctrl-C). Emits 'progress'* (while it waits in the queue and
   * while its prompt is fed), 'start', 'progress'*, then 'delta'*, then 'done', then completes; or errors
   * with a ModelError / TokenizerUnavailableError / ContextLengthExceededError. With
   * `limits.maxQueueWaitMs`, a request that would wait longer is refused at once (QueueWaitTooLongError).
   */
  generate(request: GenerationRequest, limits: AdmissionLimits = {}): Observable<GenerationEvent> {
    return new Observable<GenerationEvent>((subscriber) => {
      const refusal = this.refusal();
      if (refusal) {
        subscriber.error(refusal);
        return undefined;
      }
      const { maxQueueWaitMs } = limits;
      const estimatedWaitMs = this.estimatedWaitMs();
      if (maxQueueWaitMs !== undefined && estimatedWaitMs > maxQueueWaitMs) {
        subscriber.error(new QueueWaitTooLongError(estimatedWaitMs, maxQueueWaitMs));
        return undefined;
      }
      const job: Job = {
        request,
        subscriber,
        subscribedAt: this.clock.now(),
        registration: null,
        registered: null,
        toldProgress: false,
        ticket: null,
        turn: null,
        ended: false,
      };
      try {
        job.ticket = this.queue.enqueue(job); // a refused request registers nothing
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      const { answerReserveTokens, promptBudgetTokens } = this.options.model;
      const registration = this.registrar.register(request, this.contextWindow(), { answerReserveTokens, promptBudgetTokens });
      job.registration = registration;
      // A prompt that cannot fit fails at once, before it waits in the queue.
      registration.response.then(
        (response) => {
          job.registered = response;
          // Accepted: a request that waits hears where it stands from now on.
          if (job.ticket && this.queue.isWaiting(job.ticket)) this.reportQueued((waiting) => waiting === job);
        },
        (error: unknown) => {
          if (job.ticket && this.queue.cancel(job.ticket)) this.endWithError(job, error);
        },
      );
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
    this.runner.suspend();
    await this.finishTurn(opts.force ?? false, 'the request was cancelled by an operator reload');
    await this.stopRunner();
    if (opts.beforeStart) await opts.beforeStart();
    if (opts.options) {
      this.options = opts.options;
      this.runner.configure(opts.options);
    }
    this.runner.resetFailures();
    this.accepting = true;
    await this.runner.start();
  }

  /** Stops accepting requests, finishes (or with force cancels) the one in flight, stops the runner with "q". */
  async shutdown(opts: { force?: boolean } = {}): Promise<void> {
    if (!this.accepting && this.runner.state().phase === 'stopped' && !this.active$.value) return;
    this.accepting = false;
    this.runner.suspend();
    for (const job of this.queue.drain()) this.endQueued(job, new ModelUnavailableError('the service is shutting down'));
    await this.finishTurn(opts.force ?? false, 'the service is shutting down');
    await this.stopRunner();
  }

  // ---------------------------------------------------------------- admission

  private refusal(): Error | null {
    if (!this.accepting) return new ModelUnavailableError('the service is shutting down or reloading', 10);
    const tokenizer = this.tokenizer.snapshot();
    if (tokenizer.state !== 'ready') return new TokenizerUnavailableError(`tokenizer unavailable (${tokenizer.state})`);
    const state = this.runner.state();
    if (state.phase === 'failed') {
      return new ModelUnavailableError(`the model failed: ${state.lastError ?? 'unknown error'}; an operator must reload it`, 60);
    }
    if (state.phase !== 'ready') return new ModelUnavailableError(`the model is ${state.phase === 'restarting' ? 'restarting' : 'loading'}`, 10);
    return null;
  }

  private cancel(job: Job): void {
    if (job.turn) {
      job.turn.cancel();
      return;
    }
    if (job.ended) return;
    job.ended = true;
    const position = job.ticket ? this.queue.position(job.ticket) : -1;
    if (job.ticket && this.queue.cancel(job.ticket)) {
      if (job.registration) this.registrar.release(job.registration);
      this.publish();
      this.reportQueued((_, index) => index >= position); // those behind it moved up
    }
  }

  /** Ends a request that never reached the runner; its registered prompt is released. */
  private endQueued(job: Job, error: unknown): void {
    if (job.registration) this.registrar.release(job.registration);
    this.endWithError(job, error);
  }

  private endWithError(job: Job, error: unknown): void {
    if (job.ended) return;
    job.ended = true;
    job.subscriber.error(error);
    this.publish();
  }

  private onRunnerFailed(state: RunnerState): void {
    const why = state.deviceDead ? 'the NPU device is dead (reboot the machine)' : `${state.consecutiveFailures} consecutive failed starts`;
    for (const job of this.queue.drain()) this.endQueued(job, new ModelUnavailableError(`the model failed: ${why}`, 60));
  }

  // ---------------------------------------------------------------- scheduling

  /** Starts the next queued request when the runner waits at its prompt. */
  private pump(): void {
    if (this.active$.value || this.runner.state().phase !== 'ready') return;
    const job = this.queue.next();
    if (!job) return;
    this.active$.next(job);
    this.publish();
    this.reportQueued();
    void this.run(job);
  }

  private async run(job: Job): Promise<void> {
    let registration: RegisterPromptResponse;
    try {
      registration = await this.registrar.forTurn(job.registration!);
    } catch (error) {
      this.endWithError(job, error);
      return this.afterTurn();
    }
    if (job.ended || this.runner.state().phase !== 'ready') {
      this.tokenizer.release(registration.handle);
      this.endWithError(job, new ModelUnavailableError('the model restarted before the request reached it', 10));
      return this.afterTurn();
    }
    const { requestTimeoutMs, hangTimeoutMs, prefillMsPerToken } = this.options.model;
    const prefillTokensPerSecond = this.runner.state().lastTokensPerSecond ?? NOMINAL_PREFILL_TOKENS_PER_SECOND;
    const limits = { requestTimeoutMs, hangTimeoutMs, prefillMsPerToken, prefillTokensPerSecond };
    this.lastPrompt = { tokens: registration.promptTokens, expectedPrefillMs: expectedPrefillMs(registration.promptTokens, prefillTokensPerSecond) };
    job.turn = new GenerationTurn(job, registration, this.runner, this.tokenizer, this.clock, limits, () => {
      job.ended = true;
      this.afterTurn();
    });
    job.turn.begin();
    this.publish();
    // Queued → prefill is a change to tell; a request that did not wait hears on the interval.
    if (job.toldProgress) this.reportPrefill();
    this.scheduleProgress();
  }

  private afterTurn(): void {
    const turn = this.active$.value?.turn;
    if (turn?.outcome === 'done') this.estimator.recordAnswer(turn.facts().generatedTokens);
    this.queue.complete();
    this.active$.next(null);
    this.publish();
    this.pump();
  }

  /** Waits for the request in flight to end; with force, fails it first. */
  private async finishTurn(force: boolean, reason: string): Promise<void> {
    const job = this.active$.value;
    if (!job) return;
    if (force) {
      const error = new ModelUnavailableError(reason, 10);
      if (job.turn) job.turn.abort(error);
      else this.endWithError(job, error);
    }
    const { stopGraceMs, requestTimeoutMs } = this.options.model;
    await waitFor(this.active$, (active) => active === null, stopGraceMs + (force ? 0 : requestTimeoutMs), this.clock);
  }

  /** Interrupts a turn still in flight (and gives it the grace to end), then stops the runner. */
  private async stopRunner(): Promise<void> {
    const turn = this.active$.value?.turn;
    if (turn) {
      turn.interrupt();
      await waitFor(this.active$, (active) => active === null, this.options.model.stopGraceMs, this.clock);
    }
    await this.runner.stop();
  }

  // ---------------------------------------------------------------- progress

  /** Estimated ms before a request admitted now reaches the runner. */
  private estimatedWaitMs(): number {
    const waiting = this.queue.waitingItems();
    return this.activeRemainingMs() + waiting.reduce((sum, { item }) => sum + this.jobMs(item), 0);
  }

  /** The turn on the runner (or about to be): ms until it ends. */
  private activeRemainingMs(): number {
    const active = this.active$.value;
    if (!active) return 0;
    if (active.turn) return this.estimator.remainingMs(this.estimator.status(active.turn.facts(), this.clock.now()));
    return this.jobMs(active);
  }

  private jobMs(job: Job): number {
    const registered = job.registered;
    return this.estimator.turnMs(registered?.promptTokens ?? 0, registered?.maxTokens ?? job.request.maxTokens ?? null);
  }

  /** Tells the accepted waiting requests (those `which` selects) their position and ETA: at changes and on the interval. */
  private reportQueued(which: (job: Job, index: number) => boolean = () => true): void {
    let aheadMs = this.activeRemainingMs();
    this.queue.waitingItems().forEach(({ item: job }, index) => {
      const promptTokens = job.registered?.promptTokens ?? null;
      if (job.registered && !job.ended && which(job, index)) {
        job.toldProgress = true;
        job.subscriber.next({
          type: 'progress',
          phase: 'queued',
          position: index + 1,
          promptTokens,
          fedEstimate: null,
          etaMs: aheadMs + this.estimator.msFor(promptTokens ?? 0),
        });
      }
      aheadMs += this.jobMs(job);
    });
    this.scheduleProgress();
  }

  /** Tells the request on the runner how far the feeding of its prompt went. */
  private reportPrefill(): void {
    const turn = this.active$.value?.turn;
    if (!turn) return;
    const status = this.estimator.status(turn.facts(), this.clock.now());
    if (status.phase !== 'prefill') return;
    turn.reportPrefill({
      type: 'progress',
      phase: 'prefill',
      position: null,
      promptTokens: status.promptTokens,
      fedEstimate: status.fedEstimate,
      etaMs: this.estimator.msFor(status.promptTokens - status.fedEstimate),
    });
  }

  /** Keeps one timer for the next report while someone waits (in the queue or for its first text). */
  private scheduleProgress(): void {
    if (this.progressTimer !== null || !this.progressWanted()) return;
    this.progressTimer = this.clock.setTimeout(() => {
      this.progressTimer = null;
      this.reportQueued();
      this.reportPrefill();
      this.scheduleProgress();
    }, this.options.model.progressIntervalMs);
  }

  /** Someone waits: in the queue, or on the runner for its first text. */
  private progressWanted(): boolean {
    const turn = this.active$.value?.turn;
    const prefill = turn !== undefined && turn !== null && turn.outcome === null && turn.facts().generatingSince === null;
    return this.queue.length > 0 || prefill;
  }

  // ---------------------------------------------------------------- state

  private compose(state: RunnerState): ModelSnapshot {
    const { phase, ...rest } = state;
    const active = this.active$.value;
    const now = this.clock.now();
    const oldest = this.queue.waitingItems()[0];
    return {
      ...rest,
      oldestWaitMs: oldest ? now - oldest.enqueuedAt : null,
      estimatedWaitMs: this.estimatedWaitMs(),
      turn: active?.turn ? this.estimator.status(active.turn.facts(), now) : null,
      state: phase === 'ready' && active ? 'busy' : phase,
      // In flight = on the runner (its handle typed), not while its prompt is still being registered.
      queue: { length: this.queue.length, limit: this.options.model.queueMaxLength, inFlight: active?.turn ? 1 : 0 },
      prompt: {
        budgetTokens: this.options.model.promptBudgetTokens || this.contextWindow(),
        answerReserveTokens: this.options.model.answerReserveTokens,
        lastPromptTokens: this.lastPrompt?.tokens ?? null,
        lastExpectedPrefillMs: this.lastPrompt?.expectedPrefillMs ?? null,
      },
    };
  }

  /** The runner's window (max_token_len from its start-up output; Qwen2.5's 1024 until it printed it). */
  private contextWindow(): number {
    return this.runner.state().maxTokenLen ?? DEFAULT_CONTEXT_WINDOW;
  }

  private publish(): void {
    if (this.progressTimer !== null && !this.progressWanted()) {
      this.clock.clearTimeout(this.progressTimer);
      this.progressTimer = null;
    }
    this.snapshotSubject.next(this.compose(this.runner.state()));
  }
}
