import { Inject, Injectable } from '@nestjs/common';
import { BehaviorSubject, Observable, throwError } from 'rxjs';
import { GenerationEvent, GenerationRequest, ModelSnapshot, ModelUnavailableError } from './model.contract';
import { MODEL_OPTIONS, ModelModuleOptions } from './model.options';

/**
 * The one path from HTTP to the runner. SKELETON: the API is final, the implementation lands with ModelModule.
 */
@Injectable()
export class ModelService {
  private readonly snapshotSubject: BehaviorSubject<ModelSnapshot>;

  constructor(@Inject(MODEL_OPTIONS) private readonly options: ModelModuleOptions) {
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
    return this.snapshotSubject.value;
  }

  /**
   * Cold Observable: subscribing enqueues the request; unsubscribing cancels it (drops its queue place,
   * or stops its generation with Ctrl-C). Emits 'start', then 'delta'*, then 'done', then completes;
   * or errors with a ModelError / TokenizerUnavailableError / ContextLengthExceededError.
   */
  generate(_request: GenerationRequest): Observable<GenerationEvent> {
    return throwError(() => new ModelUnavailableError('the model is not loaded yet'));
  }

  /**
   * Restarts the runner gracefully: waits for the request in flight (or cancels it when force),
   * stops the runner with "q", runs `beforeStart` (AdminModule restarts the tokenizer there), then
   * starts a new runner with `options` (or the current ones). Also leaves the `failed` state.
   * Resolves once the new runner has been spawned (loading continues; watch snapshots$).
   */
  async reload(_opts: { force?: boolean; options?: ModelModuleOptions; beforeStart?: () => Promise<void> } = {}): Promise<void> {
    throw new Error('not implemented yet');
  }

  /** Stops accepting requests, finishes (or with force cancels) the one in flight, stops the runner with "q". */
  async shutdown(_opts: { force?: boolean } = {}): Promise<void> {
    throw new Error('not implemented yet');
  }
}
