import type { ParsedToolCall } from '@qwen/tools';
import type { ChatStreamWriter } from '../pipeline/chat-pipeline';
import type { DoneEvent } from '../pipeline/generation-events';
import { OpenAiResponseHeader, SSE_DONE, finishReasonOf, sseEvent, usageOf } from './openai-responses';

/**
 * OpenAI's SSE framing, shared by chat and legacy completions. Every chunk carries the same id and
 * created; with `include_usage` every chunk has `usage: null` and one more chunk with `choices: []`
 * and the usage follows the finishing chunk; then `data: [DONE]`. An error after the stream began is
 * one `data: {"error":…}` event (the body of OpenAI's error table), then the stream ends. While the
 * request waits (queue, prompt fed) the stream carries comment lines (`: queued: position 2…`).
 */
abstract class OpenAiSseWriter implements ChatStreamWriter {
  readonly contentType = 'text/event-stream; charset=utf-8';

  constructor(
    protected readonly header: OpenAiResponseHeader,
    private readonly includeUsage: boolean,
  ) {}

  abstract start(): string;
  abstract delta(text: string): string;
  abstract toolCall(index: number, call: ParsedToolCall): string;
  protected abstract finishChoice(done: DoneEvent): Record<string, unknown>;
  protected abstract readonly object: string;

  done(event: DoneEvent): string {
    let frames = this.chunk([this.finishChoice(event)]);
    if (this.includeUsage) frames += sseEvent({ ...this.base(), choices: [], usage: usageOf(event) });
    return frames + SSE_DONE;
  }

  errorFrame(body: unknown): string {
    return sseEvent(body);
  }

  /** An SSE comment line (`: …`): clients and SDKs skip it; proxies see the stream is alive. */
  comment(text: string): string {
    return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
  }

  protected chunk(choices: Record<string, unknown>[]): string {
    return sseEvent({ ...this.base(), choices, ...(this.includeUsage ? { usage: null } : {}) });
  }

  private base() {
    const { id, created, model, system_fingerprint } = this.header;
    return { id, object: this.object, created, model, system_fingerprint };
  }
}

export class ChatCompletionSseWriter extends OpenAiSseWriter {
  protected readonly object = 'chat.completion.chunk';

  start(): string {
    return this.chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  }

  delta(text: string): string {
    return this.chunk([{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }]);
  }

  /**
   * OpenAI's framing of a call: a first chunk with its index, id, type and name (arguments ''), then a
   * chunk with its arguments; one call per chunk.
   */
  toolCall(index: number, call: ParsedToolCall): string {
    const opening = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
    const args = { index, function: { arguments: call.argumentsJson } };
    return this.toolCallChunk(opening) + this.toolCallChunk(args);
  }

  protected finishChoice(done: DoneEvent): Record<string, unknown> {
    return { index: 0, delta: {}, logprobs: null, finish_reason: finishReasonOf(done) };
  }

  private toolCallChunk(toolCall: Record<string, unknown>): string {
    return this.chunk([{ index: 0, delta: { tool_calls: [toolCall] }, logprobs: null, finish_reason: null }]);
  }
}

export class TextCompletionSseWriter extends OpenAiSseWriter {
  protected readonly object = 'text_completion';

  constructor(
    header: OpenAiResponseHeader,
    includeUsage: boolean,
    /** Written first when `echo` was asked for. */
    private readonly echo: string,
  ) {
    super(header, includeUsage);
  }

  start(): string {
    return this.echo ? this.delta(this.echo) : '';
  }

  delta(text: string): string {
    return this.chunk([{ text, index: 0, logprobs: null, finish_reason: null }]);
  }

  /** Legacy completions offer no tools: the model's text never becomes a call here. */
  toolCall(): string {
    return '';
  }

  protected finishChoice(done: DoneEvent): Record<string, unknown> {
    return { text: '', index: 0, logprobs: null, finish_reason: finishReasonOf(done) };
  }
}
