import type { ContextLengthExceededBody } from '../tokenizer.contract';
import type { ChatTemplateRenderer, RenderableMessage } from './chat-template-renderer';

export interface FitRequest {
  /** A conversation, rendered with the chat template (generation prompt added). */
  messages?: readonly RenderableMessage[];
  /** Or raw text, tokenized as is: no template, nothing dropped. */
  prompt?: string;
  contextWindow: number;
  maxTokens?: number | null;
  /** Drop the oldest non-system messages until it fits (default true). */
  dropOldTurns?: boolean;
}

export interface FittedPrompt {
  ids: number[];
  promptTokens: number;
  /** min(requested, window − prompt), or window − prompt when none was requested. */
  maxTokens: number;
  droppedMessages: number;
}

export type FitResult = { ok: true; prompt: FittedPrompt } | { ok: false; error: ContextLengthExceededBody };

export interface TextEncoderLike {
  encode(text: string): number[];
}

/**
 * Fits a prompt into the runner's window: renders and counts exact ids; when
 * prompt + (maxTokens ?? 1) > window, drops the oldest non-system messages one at a time (system
 * messages, the last user message and everything after it are always kept); if it still does not fit,
 * answers context_length_exceeded.
 */
export class PromptFitter {
  constructor(
    private readonly tokenizer: TextEncoderLike,
    private readonly renderer: ChatTemplateRenderer,
  ) {}

  fit(request: FitRequest): FitResult {
    const window = request.contextWindow;
    const needed = request.maxTokens ?? 1;
    if (request.messages === undefined) {
      const ids = this.tokenizer.encode(request.prompt ?? '');
      return this.result(ids, 0, window, request.maxTokens);
    }
    let messages = [...request.messages];
    let ids = this.tokenizer.encode(this.renderer.render(messages));
    let dropped = 0;
    if (request.dropOldTurns ?? true) {
      while (ids.length + needed > window) {
        const index = firstDroppable(messages);
        if (index < 0) break;
        messages = messages.filter((_, i) => i !== index);
        dropped++;
        ids = this.tokenizer.encode(this.renderer.render(messages));
      }
    }
    return this.result(ids, dropped, window, request.maxTokens);
  }

  private result(ids: number[], dropped: number, window: number, requested: number | null | undefined): FitResult {
    const room = window - ids.length;
    if (room < (requested ?? 1)) {
      return {
        ok: false,
        error: {
          error: {
            code: 'context_length_exceeded',
            message:
              `This model's maximum context length is ${window} tokens. However, your messages resulted in ${ids.length} tokens` +
              (requested ? ` (plus ${requested} requested for the completion)` : '') +
              '. Please reduce the length of the messages or the completion.',
            promptTokens: ids.length,
            contextWindow: window,
          },
        },
      };
    }
    const maxTokens = requested === null || requested === undefined ? room : Math.min(requested, room);
    return { ok: true, prompt: { ids, promptTokens: ids.length, maxTokens, droppedMessages: dropped } };
  }
}

/** Index of the oldest message that may be dropped, or -1: not system/developer, before the last user message. */
function firstDroppable(messages: readonly RenderableMessage[]): number {
  let lastUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') {
      lastUser = i;
      break;
    }
  }
  const keepFrom = lastUser >= 0 ? lastUser : messages.length - 1;
  for (let i = 0; i < keepFrom; i++) {
    if (messages[i].role !== 'system' && messages[i].role !== 'developer') return i;
  }
  return -1;
}
