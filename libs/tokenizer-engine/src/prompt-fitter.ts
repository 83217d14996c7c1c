import type { ContextLengthExceededBody } from '@qwen/tokenizer';
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
  /** Ids of a prompt rendered by the ChatTemplateRenderer (scaffolding special, request text as text). */
  encodePrompt(rendered: string): number[];
  /** Ids of text with no special tokens at all. */
  encodeText(text: string): number[];
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
 * System messages, the last user message and everything after it are always kept; when
 * prompt + (maxTokens ?? 1) > window without them, or with them alone, it answers
 * context_length_exceeded. Cheap checks come first: text whose UTF-8 size alone needs more ids
 * than the window (bytes / the longest token) is refused before anything is tokenized.
 * The ids are exact: they are those of the whole rendered conversation (the special tokens that
 * open and close each message cut the text into independently tokenized pieces); when the
 * template does not render message by message (tool results share a turn) the kept conversation
 * is rendered and tokenized whole instead.
 */
export class PromptFitter {
  constructor(
    private readonly tokenizer: TextEncoderLike,
    private readonly renderer: ChatTemplateRenderer,
    private readonly options: PromptFitterOptions = {},
  ) {}

  fit(request: FitRequest): FitResult {
    const window = request.contextWindow;
    const requested = request.maxTokens;
    const budget = window - (requested ?? 1);
    if (request.messages === undefined) {
      const text = request.prompt ?? '';
      const atLeast = this.leastTokens(text);
      if (atLeast > budget) return refusal(atLeast, window, requested);
      const ids = this.options.rawPromptSpecialTokens ? this.tokenizer.encode(text) : this.tokenizer.encodeText(text);
      return this.result(ids, 0, window, requested);
    }
    const messages = this.renderer.normalize(request.messages);
    const keepFrom = lastUserIndex(messages);
    const isFixed = (i: number) => i >= keepFrom || messages[i].role === 'system';
    const fixed = messages.map((_, i) => i).filter(isFixed);
    const atLeast = fixed.reduce((sum, i) => sum + this.leastTokens(messages[i].content) + MIN_MESSAGE_TOKENS, 0);
    if (atLeast > budget) return refusal(atLeast, window, requested);

    const pieces = new TranscriptPieces(this.tokenizer, this.renderer, messages);
    let used = pieces.frameTokens() + fixed.reduce((sum, i) => sum + pieces.tokens(i), 0);
    const kept = new Set(fixed);
    const mayDrop = request.dropOldTurns ?? true;
    for (let i = keepFrom - 1; i >= 0; i--) {
      if (isFixed(i)) continue;
      if (mayDrop && used + this.leastTokens(messages[i].content) + MIN_MESSAGE_TOKENS > budget) break;
      const tokens = pieces.tokens(i);
      if (mayDrop && used + tokens > budget) break;
      used += tokens;
      kept.add(i);
    }
    for (;;) {
      const order = messages.map((_, i) => i).filter((i) => kept.has(i));
      const ids = pieces.ids(order);
      const oldest = order.find((i) => !isFixed(i));
      if (!mayDrop || ids.length <= budget || oldest === undefined) return this.result(ids, messages.length - order.length, window, requested);
      kept.delete(oldest); // only when the template did not render message by message
    }
  }

  /** The fewest ids `text` can take: its UTF-8 size over the longest token. */
  private leastTokens(text: string): number {
    return Math.ceil(Buffer.byteLength(text, 'utf8') / this.tokenizer.maxTokenBytes);
  }

  private result(ids: number[], dropped: number, window: number, requested: number | null | undefined): FitResult {
    const room = window - ids.length;
    if (room < (requested ?? 1)) return refusal(ids.length, window, requested);
    const maxTokens = requested === null || requested === undefined ? room : Math.min(requested, room);
    return { ok: true, prompt: { ids, promptTokens: ids.length, maxTokens, droppedMessages: dropped } };
  }
}

function refusal(promptTokens: number, window: number, requested: number | null | undefined): FitResult {
  return {
    ok: false,
    error: {
      error: {
        code: 'context_length_exceeded',
        message:
          `This model's maximum context length is ${window} tokens. However, your messages resulted in ${promptTokens} tokens` +
          (requested ? ` (plus ${requested} requested for the completion)` : '') +
          '. Please reduce the length of the messages or the completion.',
        promptTokens,
        contextWindow: window,
      },
    },
  };
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
  ) {
    this.probe = renderer.render([PROBE_SYSTEM], false);
    this.generation = renderer.render([PROBE_SYSTEM]).slice(this.probe.length);
    const first = messages[0];
    if (!first || first.role === 'system') {
      this.lead = '';
    } else {
      const alone = renderer.render([first], false);
      this.lead = alone.endsWith(this.text(0)) ? alone.slice(0, alone.length - this.text(0).length) : '';
    }
  }

  /** Ids of the lead and of the generation prompt. */
  frameTokens(): number {
    this.leadIds ??= this.tokenizer.encodePrompt(this.lead);
    this.generationIds ??= this.tokenizer.encodePrompt(this.generation);
    return this.leadIds.length + this.generationIds.length;
  }

  tokens(index: number): number {
    return this.pieceIds(index).length;
  }

  /** The exact ids of the conversation made of `order` (indices, ascending), generation prompt included. */
  ids(order: readonly number[]): number[] {
    const kept = order.map((i) => this.messages[i]);
    const whole = this.renderer.render(kept);
    const startsWithSystem = kept[0]?.role === 'system';
    const lead = startsWithSystem ? '' : this.lead;
    const joined = lead + order.map((i) => this.text(i)).join('') + this.generation;
    if (joined !== whole || (!startsWithSystem && this.lead === '')) return this.tokenizer.encodePrompt(whole);
    this.frameTokens();
    const ids: number[] = startsWithSystem ? [] : [...(this.leadIds as number[])];
    for (const i of order) for (const id of this.pieceIds(i)) ids.push(id);
    for (const id of this.generationIds as number[]) ids.push(id);
    return ids;
  }

  private pieceIds(index: number): number[] {
    let ids = this.idsOf.get(index);
    if (!ids) {
      ids = this.tokenizer.encodePrompt(this.text(index));
      this.idsOf.set(index, ids);
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
          ? this.renderer.render([message], false)
          : this.renderer.render([PROBE_SYSTEM, message], false).slice(this.probe.length);
      this.texts.set(index, text);
    }
    return text;
  }
}
