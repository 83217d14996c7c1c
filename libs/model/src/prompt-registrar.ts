import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '@qwen/supervision';
import { ContextLengthExceededError, RegisterPromptResponse, TokenizerBridge } from '@qwen/tokenizer';
import { GenerationRequest } from './model.contract';

/** A handle this close to expiry is registered again before it is typed. */
export const HANDLE_EXPIRY_MARGIN_MS = 5000;

/** How much of the window a prompt may take (model.answerReserveTokens, model.promptBudgetTokens). */
export interface PromptLimits {
  /** Tokens the prompt must leave for the answer; old turns are dropped to keep them. */
  answerReserveTokens: number;
  /** Most prompt tokens wanted (old turns dropped to meet it); 0 = the whole window. */
  promptBudgetTokens: number;
}

/** One request's prompt as registered with the tokenizer (or not yet: the tokenizer was unreachable). */
export interface PromptRegistration {
  readonly request: GenerationRequest;
  readonly contextWindow: number;
  readonly limits: PromptLimits;
  /** null = not registered (the tokenizer was unreachable): registered again at its turn. Rejects only when the prompt cannot fit. */
  readonly response: Promise<RegisterPromptResponse | null>;
  /** The tokenizer process that holds the handle (a restarted one has forgotten it). */
  readonly instanceId: number | null;
}

/**
 * Owns the prompts registered with the tokenizer: registers one per admitted request, registers it
 * again at its turn when it is missing, near expiry or held by a tokenizer process since restarted,
 * and releases a handle that will never be typed (cancelled, timed out, drained).
 */
@Injectable()
export class PromptRegistrar {
  private readonly logger = new Logger(PromptRegistrar.name);

  constructor(
    private readonly tokenizer: TokenizerBridge,
    private readonly clock: Clock,
  ) {}

  /** Starts registering; a prompt that cannot fit rejects `response`, any other failure leaves it null. */
  register(request: GenerationRequest, contextWindow: number, limits: PromptLimits): PromptRegistration {
    const instanceId = this.tokenizer.instanceId();
    const response = this.call(request, contextWindow, limits).catch((error: unknown) => {
      if (error instanceof ContextLengthExceededError) throw error;
      return null;
    });
    response.catch(() => undefined); // handled where it is awaited
    return { request, contextWindow, limits, response, instanceId };
  }

  /** The handle to type now: the early registration if still good, else a fresh one (the old one released). */
  async forTurn(registration: PromptRegistration): Promise<RegisterPromptResponse> {
    const early = await registration.response;
    const instanceId = this.tokenizer.instanceId();
    const good = early && early.expiresAt - this.clock.now() >= HANDLE_EXPIRY_MARGIN_MS && instanceId === registration.instanceId;
    if (early && good) return early;
    if (early && instanceId === registration.instanceId) this.tokenizer.release(early.handle);
    this.logger.debug(`registering the prompt of ${registration.request.requestId} again (${early ? 'stale handle' : 'not registered'})`);
    return this.call(registration.request, registration.contextWindow, registration.limits);
  }

  /** Forgets the registration of a request that will never be typed (no-op when it did not register). */
  release(registration: PromptRegistration): void {
    void registration.response.then(
      (response) => {
        if (response && this.tokenizer.instanceId() === registration.instanceId) this.tokenizer.release(response.handle);
      },
      () => undefined,
    );
  }

  private call(request: GenerationRequest, contextWindow: number, limits: PromptLimits): Promise<RegisterPromptResponse> {
    return this.tokenizer.register({
      messages: request.messages,
      prompt: request.prompt,
      contextWindow,
      maxTokens: request.maxTokens,
      tools: request.tools,
      assistantPrefill: request.assistantPrefill,
      answerReserve: limits.answerReserveTokens,
      promptBudget: limits.promptBudgetTokens > 0 ? limits.promptBudgetTokens : undefined,
    });
  }
}
