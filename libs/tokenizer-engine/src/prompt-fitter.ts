import type { ContextLengthExceededBody, TemplateTool } from '@qwen/tokenizer';
import type { ChatTemplateRenderer, RenderableMessage } from './chat-template-renderer';
import { measurePromptParts, promptOverflowMessage } from './prompt-breakdown';
import type { WorkSteps } from './work-steps';

export interface FitRequest {
  /** A conversation, rendered with the chat template (generation prompt added). */
  messages?: readonly RenderableMessage[];
  /** Or raw text, tokenized as is: no template, nothing dropped. */
  prompt?: string;
  contextWindow: number;
  /** The client's output limit, an upper bound: it never makes the prompt smaller, it is clamped to the room left. */
  maxTokens?: number | null;
  /** Drop the oldest non-system messages until it fits (default true). */
  dropOldTurns?: boolean;
  /** Tools for the template's `<tools>` block (only with messages). */
  tools?: readonly TemplateTool[];
  /** Text the assistant turn starts with, after the generation prompt (only with messages): part of the prompt ids. */
  assistantPrefill?: string;
  /** Tokens the prompt must leave for the answer (default 1): a prompt that cannot, even with old turns dropped, is refused. */
  answerReserve?: number;
  /**
   * Prompt tokens wanted at most (default: the window): old turns are dropped to meet it, but the system
   * messages and the last user message are kept even when they alone are over it.
   */
  promptBudget?: number;
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
  /** Ids of a prompt rendered by the ChatTemplateRenderer (scaffolding special, request text as text). */
  encodePrompt(rendered: string): number[];
  /** encodePrompt, a step at a time. */
  encodePromptSteps(rendered: string): WorkSteps<number[]>;
  /** Ids of text with no special tokens at all, a step at a time. */
  encodeTextSteps(text: string): WorkSteps<number[]>;
  /** Ids of text whose spelled special tokens become control tokens (trusted raw prompts only). */
  encode(text: string): number[];
  /** The most UTF-8 bytes one id stands for. */
  readonly maxTokenBytes: number;
}

export interface PromptFitterOptions {
  /**
   * A raw prompt's spelled special tokens (`<|im_start|>`…) become control tokens, for trusted clients
   * that write the chat format themselves (config `tokenizer.rawPromptSpecialTokens`). Default false:
   * a raw prompt is text. Messages are always text, whatever this says.
   */
  rawPromptSpecialTokens?: boolean;
}

/** Every rendered message costs at least this many ids (its role/markers; tool results share a turn). */
const MIN_MESSAGE_TOKENS = 2;
/** Stands in for the system message when a message is rendered alone. */
const PROBE_SYSTEM = { role: 'system', content: 'x' } as const;

/**
 * Fits a prompt into the runner's window, in time linear in the conversation: each message is
 * rendered and tokenized once on its own, and old messages are taken newest to oldest while they
 * fit, so a history of thousands of messages costs what the window holds, not more.
 *
 * Two limits: the prompt must leave `answerReserve` tokens of the window for the answer (else
 * context_length_exceeded, with the count broken down into system, tools, history and last message),
 * and old turns are dropped until it is within `promptBudget` (the operator's bound on time to first
 * token) and the reserve. System messages, the last user message and everything after it are always
 * kept. The client's maxTokens does not take part: it is clamped to the room left.
 * Cheap checks come first: text whose UTF-8 size alone needs more ids than the window allows
 * (bytes / the longest token) is refused before anything is tokenized.
 * The ids are exact: they are those of the whole rendered conversation plus the assistant prefill
 * (the special tokens that open and close each message cut the text into independently tokenized
 * pieces); when the template does not render message by message (tool results share a turn) the
 * kept conversation is rendered and tokenized whole instead.
 * The fit is done a step at a time (`fitSteps`: at least one step per message tokenized, and one per
 * few hundred words of a long message), so that whoever runs it can answer something more urgent
 * between steps.
 */
export class PromptFitter {
  constructor(
    private readonly tokenizer: TextEncoderLike,
    private readonly renderer: ChatTemplateRenderer,
    private readonly options: PromptFitterOptions = {},
  ) {}

  *fitSteps(request: FitRequest): WorkSteps<FitResult> {
    const window = request.contextWindow;
    const reserve = Math.max(1, request.answerReserve ?? 1);
    const limit = window - reserve;
    const target = Math.min(limit, request.promptBudget ?? window);
    const requested = request.maxTokens ?? null;
    if (request.messages === undefined) {
      const text = request.prompt ?? '';
      const atLeast = this.leastTokens(text);
      if (atLeast > limit) return refusal(atLeast, window, sizeMessage(atLeast, window, reserve));
      const ids = this.options.rawPromptSpecialTokens ? this.tokenizer.encode(text) : yield* this.tokenizer.encodeTextSteps(text);
      if (ids.length > limit) return refusal(ids.length, window, sizeMessage(ids.length, window, reserve));
      return result(ids, 0, window, requested);
    }
    const tools = request.tools ?? [];
    const prefill = request.assistantPrefill ?? '';
    const messages = this.renderer.normalize(request.messages);
    const keepFrom = lastUserIndex(messages);
    const isFixed = (i: number) => i >= keepFrom || messages[i].role === 'system';
    const fixed = messages.map((_, i) => i).filter(isFixed);
    const atLeast = fixed.reduce((sum, i) => sum + this.leastTokens(messages[i].content) + MIN_MESSAGE_TOKENS, 0);
    if (atLeast > limit) return refusal(atLeast, window, sizeMessage(atLeast, window, reserve));

    const pieces = new TranscriptPieces(this.tokenizer, this.renderer, messages, tools, prefill);
    let used = yield* pieces.frameTokens();
    for (const i of fixed) used += yield* pieces.tokens(i);
    const kept = new Set(fixed);
    const mayDrop = request.dropOldTurns ?? true;
    for (let i = keepFrom - 1; i >= 0; i--) {
      if (isFixed(i)) continue;
      if (mayDrop && used + this.leastTokens(messages[i].content) + MIN_MESSAGE_TOKENS > target) break;
      const tokens = yield* pieces.tokens(i);
      if (mayDrop && used + tokens > target) break;
      used += tokens;
      kept.add(i);
    }
    for (;;) {
      const order = messages.map((_, i) => i).filter((i) => kept.has(i));
      const oldest = order.find((i) => !isFixed(i));
      const ids = yield* pieces.ids(order);
      if (!mayDrop || ids.length <= target || oldest === undefined) {
        if (ids.length > limit) return this.overflow(order.map((i) => messages[i]), ids.length, window, reserve, tools, prefill);
        return result(ids, messages.length - order.length, window, requested);
      }
      kept.delete(oldest); // only when the template did not render message by message
    }
  }

  /** The fewest ids `text` can take: its UTF-8 size over the longest token. */
  private leastTokens(text: string): number {
    return Math.ceil(Buffer.byteLength(text, 'utf8') / this.tokenizer.maxTokenBytes);
  }

  /** The refusal of a prompt that cannot leave the reserve, its count broken down (renders it 4 more times). */
  private overflow(
    kept: readonly RenderableMessage[],
    promptTokens: number,
    window: number,
    reserve: number,
    tools: readonly TemplateTool[],
    prefill: string,
  ): FitResult {
    const parts = measurePromptParts(
      kept,
      (messages, withTools) => this.renderer.render(messages, true, withTools ? tools : []) + prefill,
      (text) => this.tokenizer.encodePrompt(text).length,
    );
    return refusal(promptTokens, window, `This model's maximum context length is ${window} tokens. ${promptOverflowMessage(parts, window, reserve)}`);
  }
}

function result(ids: number[], dropped: number, window: number, requested: number | null): FitResult {
  const room = window - ids.length;
  const maxTokens = requested === null ? room : Math.min(requested, room);
  return { ok: true, prompt: { ids, promptTokens: ids.length, maxTokens, droppedMessages: dropped } };
}

/** The message when the size of the text alone (or a raw prompt) is too much: no parts to tell apart. */
function sizeMessage(promptTokens: number, window: number, reserve: number): string {
  return (
    `This model's maximum context length is ${window} tokens. However, your messages resulted in at least ${promptTokens} tokens, ` +
    `and ${reserve} of the window are kept for the answer. Please reduce the length of the messages.`
  );
}

function refusal(promptTokens: number, window: number, message: string): FitResult {
  return { ok: false, error: { error: { code: 'context_length_exceeded', message, promptTokens, contextWindow: window } } };
}

/** Index of the last user message (kept with all after it), else of the last message. */
function lastUserIndex(messages: readonly RenderableMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user') return i;
  return messages.length - 1;
}

/**
 * The rendered transcript cut into pieces: what the template puts before the first message (its
 * default system turn when the conversation starts with another role), each message's own turn,
 * and the generation prompt — each tokenized once, on demand.
 */
class TranscriptPieces {
  private readonly texts = new Map<number, string>();
  private readonly idsOf = new Map<number, number[]>();
  private readonly generation: string;
  private readonly probe: string;
  private readonly lead: string;
  private leadIds: number[] | undefined;
  private generationIds: number[] | undefined;

  constructor(
    private readonly tokenizer: TextEncoderLike,
    private readonly renderer: ChatTemplateRenderer,
    private readonly messages: readonly RenderableMessage[],
    private readonly tools: readonly TemplateTool[],
    private readonly prefill: string,
  ) {
    this.probe = renderer.render([PROBE_SYSTEM], false, tools);
    this.generation = renderer.render([PROBE_SYSTEM], true, tools).slice(this.probe.length) + prefill;
    const first = messages[0];
    if (!first || first.role === 'system') {
      this.lead = '';
    } else {
      const alone = renderer.render([first], false, tools);
      this.lead = alone.endsWith(this.text(0)) ? alone.slice(0, alone.length - this.text(0).length) : '';
    }
  }

  /** Ids of the lead and of the generation prompt. */
  *frameTokens(): WorkSteps<number> {
    this.leadIds ??= yield* this.tokenizer.encodePromptSteps(this.lead);
    this.generationIds ??= yield* this.tokenizer.encodePromptSteps(this.generation);
    return this.leadIds.length + this.generationIds.length;
  }

  *tokens(index: number): WorkSteps<number> {
    return (yield* this.pieceIds(index)).length;
  }

  /** The exact ids of the conversation made of `order` (indices, ascending), generation prompt included. */
  *ids(order: readonly number[]): WorkSteps<number[]> {
    const kept = order.map((i) => this.messages[i]);
    const whole = this.renderer.render(kept, true, this.tools) + this.prefill;
    const startsWithSystem = kept[0]?.role === 'system';
    const lead = startsWithSystem ? '' : this.lead;
    const joined = lead + order.map((i) => this.text(i)).join('') + this.generation;
    if (joined !== whole || (!startsWithSystem && this.lead === '')) return yield* this.tokenizer.encodePromptSteps(whole);
    yield* this.frameTokens();
    const ids: number[] = startsWithSystem ? [] : [...(this.leadIds as number[])];
    for (const i of order) for (const id of yield* this.pieceIds(i)) ids.push(id);
    for (const id of this.generationIds as number[]) ids.push(id);
    return ids;
  }

  /** Ids of a message's own turn (tokenized once; a step at least each time it is). */
  private *pieceIds(index: number): WorkSteps<number[]> {
    let ids = this.idsOf.get(index);
    if (!ids) {
      ids = yield* this.tokenizer.encodePromptSteps(this.text(index));
      this.idsOf.set(index, ids);
      yield;
    }
    return ids;
  }

  /** The message's own turn as the template renders it: alone for a leading system message, else after a system turn. */
  private text(index: number): string {
    let text = this.texts.get(index);
    if (text === undefined) {
      const message = this.messages[index];
      text =
        index === 0 && message.role === 'system'
          ? this.renderer.render([message], false, this.tools)
          : this.renderer.render([PROBE_SYSTEM, message], false, this.tools).slice(this.probe.length);
      this.texts.set(index, text);
    }
    return text;
  }
}
