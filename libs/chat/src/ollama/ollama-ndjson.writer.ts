import type { ChatStreamWriter } from '../pipeline/chat-pipeline';
import type { ParsedToolCall } from '@qwen/tools';
import type { DoneEvent } from '../pipeline/generation-events';
import { OllamaGenerationKind, ollamaChunk, ollamaFinal, ollamaToolCallChunk } from './ollama-responses';
import { NDJSON_CONTENT_TYPE } from './ollama.constants';

/** One JSON object per line. */
export function ndjsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/**
 * Frames a streamed /api/chat or /api/generate answer as NDJSON: one `done:false` object per text
 * piece as the runner prints it, one per completed tool call, a `done:true` object with the figures, or one `{"error"}` line (the body of Ollama's error table).
 * NDJSON has no comments and Ollama clients take every line as an answer chunk: no progress of a
 * waiting request is written (no `comment`), and the stream opens when the request reaches the runner.
 */
export class OllamaNdjsonWriter implements ChatStreamWriter {
  readonly contentType = NDJSON_CONTENT_TYPE;

  constructor(
    private readonly kind: OllamaGenerationKind,
    private readonly model: string,
    private readonly now: () => number,
  ) {}

  start(): string {
    return '';
  }

  delta(text: string): string {
    return text ? ndjsonLine(ollamaChunk(this.kind, this.model, this.createdAt(), text)) : '';
  }

  /** A call goes out in the chunk that completes it (Ollama's way), with its arguments as an object. */
  toolCall(index: number, call: ParsedToolCall): string {
    return ndjsonLine(ollamaToolCallChunk(this.model, this.createdAt(), index, call));
  }

  done(event: DoneEvent): string {
    return ndjsonLine(ollamaFinal(this.kind, this.model, this.createdAt(), '', event));
  }

  errorFrame(body: unknown): string {
    return ndjsonLine(body);
  }

  private createdAt(): string {
    return new Date(this.now()).toISOString();
  }
}
