import { UPSTREAM_POST_CONFIG } from '../../fixtures/runner-output';
import type { AdmissionLimits, FinishReason, GenerationEvent, GenerationRequest, ModelSnapshot } from '@qwen/model';
import { Observable } from 'rxjs';

export interface FakeAnswerOptions {
  /** The text, emitted as these deltas (default: the whole text as one delta). */
  chunks?: string[];
  promptTokens?: number;
  completionTokens?: number;
  finishReason?: FinishReason;
  droppedMessages?: number;
  queuedMs?: number;
  ttftMs?: number | null;
}

/** Events of a successful generation, emitted synchronously. */
export function fakeAnswer(text: string, options: FakeAnswerOptions = {}): GenerationEvent[] {
  const chunks = options.chunks ?? (text ? [text] : []);
  const promptTokens = options.promptTokens ?? 10;
  return [
    { type: 'start', promptTokens, maxTokens: 100, requestedMaxTokens: null, droppedMessages: options.droppedMessages ?? 0, queuedMs: options.queuedMs ?? 0, expectedPrefillMs: promptTokens * 71 },
    ...chunks.map((chunk): GenerationEvent => ({ type: 'delta', text: chunk })),
    {
      type: 'done',
      finishReason: options.finishReason ?? 'stop',
      usage: { promptTokens, completionTokens: options.completionTokens ?? chunks.length },
      timings: { queuedMs: options.queuedMs ?? 0, ttftMs: options.ttftMs ?? 5, promptEvalMs: 5, evalMs: 1, totalMs: 6 },
      runnerTokensPerSecond: 13,
    },
  ];
}

/** What the fake does for one request: a list of events (then complete), or its own Observable. */
export type FakeBehaviour = (request: GenerationRequest) => GenerationEvent[] | Observable<GenerationEvent>;

/**
 * A stand-in for ModelService (generate + snapshot) in HTTP-layer tests. By default it answers
 * with the text of the last user message (or the raw prompt), like the runner emulator.
 */
export class FakeModelService {
  readonly requests: GenerationRequest[] = [];
  /** The admission limits of each request, in the same order. */
  readonly admissions: AdmissionLimits[] = [];
  /** Ids of requests whose subscriber unsubscribed before the Observable ended (the client left). */
  readonly cancelled: string[] = [];
  behaviour: FakeBehaviour = (request) => fakeAnswer(lastUserText(request));
  sampling: Record<string, unknown> | null = { ...UPSTREAM_POST_CONFIG };
  private cancelWaiters: Array<(id: string) => void> = [];
  private requestWaiters: Array<(request: GenerationRequest) => void> = [];

  generate(request: GenerationRequest, limits: AdmissionLimits = {}): Observable<GenerationEvent> {
    return new Observable<GenerationEvent>((subscriber) => {
      this.requests.push(request);
      this.admissions.push(limits);
      for (const waiter of this.requestWaiters.splice(0)) waiter(request);
      let ended = false;
      const result = this.behaviour(request);
      const source = Array.isArray(result) ? new Observable<GenerationEvent>((s) => {
        for (const event of result) s.next(event);
        s.complete();
      }) : result;
      const inner = source.subscribe({
        next: (event) => subscriber.next(event),
        error: (error: unknown) => {
          ended = true;
          subscriber.error(error);
        },
        complete: () => {
          ended = true;
          subscriber.complete();
        },
      });
      return () => {
        inner.unsubscribe();
        if (!ended) {
          this.cancelled.push(request.requestId);
          for (const waiter of this.cancelWaiters.splice(0)) waiter(request.requestId);
        }
      };
    });
  }

  /** Resolves with the id of the next request cancelled by its client (or at once if one already was). */
  whenCancelled(ms = 5000): Promise<string> {
    if (this.cancelled.length) return Promise.resolve(this.cancelled[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no request was cancelled within ${ms} ms`)), ms);
      this.cancelWaiters.push((id) => {
        clearTimeout(timer);
        resolve(id);
      });
    });
  }

  /** Resolves with the next request generate() is subscribed for (or the latest one, if any came already). */
  whenRequested(ms = 5000): Promise<GenerationRequest> {
    if (this.requests.length) return Promise.resolve(this.requests[this.requests.length - 1]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no request reached the model within ${ms} ms`)), ms);
      this.requestWaiters.push((request) => {
        clearTimeout(timer);
        resolve(request);
      });
    });
  }

  snapshot(): ModelSnapshot {
    return {
      state: 'ready',
      progress: null,
      pid: 1234,
      startedAt: new Date(0).toISOString(),
      loads: 1,
      restarts: 0,
      consecutiveFailures: 0,
      lastError: null,
      outputTail: [],
      maxTokenLen: 1024,
      sampling: this.sampling,
      deviceDead: false,
      lastTokensPerSecond: null,
      queue: { length: 0, limit: 16, inFlight: 0 },
      prompt: { budgetTokens: 1024, answerReserveTokens: 256, lastPromptTokens: null, lastExpectedPrefillMs: null },
      oldestWaitMs: null,
      estimatedWaitMs: 0,
      turn: null,
    };
  }
}

/** The emulator's answer: the text of the last user message, or the raw prompt. */
export function lastUserText(request: GenerationRequest): string {
  if (request.prompt !== undefined) return request.prompt;
  const users = (request.messages ?? []).filter((m) => m.role === 'user');
  return users.length ? users[users.length - 1].content : '';
}
