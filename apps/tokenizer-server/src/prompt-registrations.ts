import type { RegisterPromptResponse, RegistrationAnswer } from '@qwen/tokenizer';
import type { FitRequest, FitResult, FittedPrompt } from '@qwen/tokenizer-engine';
import { asBody, parseRegisterPrompt } from './request-validation';

/** A fitted registration for the main thread's handle store: its ids (at most the window), no text. */
export interface PromptToStore {
  id: number;
  prompt: FittedPrompt;
  contextWindow: number;
}

/** What a registration needs done, in the worker thread and outside it. */
export interface RegistrationSteps {
  /** Queues the fit (FittingQueue); its outcome comes back through `fitted`. */
  fit(id: number, request: FitRequest): void;
  /** Asks the main thread to store the fitted ids under a handle; its answer comes back through `stored`. */
  store(fitted: PromptToStore): void;
  /** Answers the service (the registration channel). */
  answer(answer: RegistrationAnswer): void;
  logError(message: string): void;
}

/**
 * The registrations of the service, in the worker thread (they never reach the thread answering the
 * runner): each is checked, fitted, stored by the main thread (the handle is live) and only then
 * answered; a request that cannot be used is refused with `invalid_request`, a fit that fails with
 * `internal_error`. Every registration is answered once.
 */
export class PromptRegistrations {
  /** The window of each registration being fitted. */
  private readonly windows = new Map<number, number>();

  constructor(private readonly steps: RegistrationSteps) {}

  /** A `register` command (RegisterCommand) as it came off the channel. */
  receive(command: unknown): void {
    const { id, request } = (command ?? {}) as { id?: unknown; request?: unknown };
    if (typeof id !== 'number' || !Number.isInteger(id)) {
      this.steps.logError('a registration without an id was ignored');
      return;
    }
    let fit: FitRequest;
    try {
      fit = parseRegisterPrompt(asBody(request));
    } catch (error) {
      this.steps.answer({ type: 'refused', id, error: { code: 'invalid_request', message: (error as Error).message } });
      return;
    }
    this.windows.set(id, fit.contextWindow);
    this.steps.fit(id, fit);
  }

  /** The outcome of a fit. */
  fitted(id: number, outcome: { result: FitResult } | { error: string }): void {
    const contextWindow = this.windows.get(id);
    this.windows.delete(id);
    if (contextWindow === undefined) return;
    if ('error' in outcome) {
      this.steps.logError(`registration failed: ${outcome.error}`);
      this.steps.answer({ type: 'refused', id, error: { code: 'internal_error', message: 'the tokenizer could not fit the prompt' } });
    } else if (!outcome.result.ok) {
      this.steps.answer({ type: 'refused', id, error: outcome.result.error.error });
    } else {
      this.steps.store({ id, prompt: outcome.result.prompt, contextWindow });
    }
  }

  /** The main thread stored the prompt: the handle is live, the service may type it now. */
  stored(id: number, response: RegisterPromptResponse): void {
    this.steps.answer({ type: 'registered', id, response });
  }
}
