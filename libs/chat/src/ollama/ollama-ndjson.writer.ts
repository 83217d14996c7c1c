import type { ChatExchange } from '../pipeline/chat-exchange';
import type { ChatFailure } from '../pipeline/chat-failure';
import type { ChatStreamWriter } from '../pipeline/chat-pipeline';
import type { DoneEvent, StartEvent } from '../pipeline/generation-events';
import { ollamaErrorLine, ollamaStatusOf } from './ollama-errors';
import { OllamaGenerationKind, ollamaChunk, ollamaFinal } from './ollama-responses';
import { NDJSON_CONTENT_TYPE } from './ollama.constants';

/** One JSON object per line. */
export function ndjsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/**
 * Frames a streamed /api/chat or /api/generate answer as NDJSON: one `done:false` object per text
 * piece as the runner prints it, a `done:true` object with the figures, or one `{"error"}` line.
 */
export class OllamaNdjsonWriter implements ChatStreamWriter {
  readonly contentType = NDJSON_CONTENT_TYPE;

  constructor(
    private readonly kind: OllamaGenerationKind,
    private readonly model: string,
    private readonly now: () => number,
  ) {}

  start(_event: StartEvent, _exchange: ChatExchange): string {
    return '';
  }

  delta(text: string, _exchange: ChatExchange): string {
    return text ? ndjsonLine(ollamaChunk(this.kind, this.model, this.createdAt(), text)) : '';
  }

  done(event: DoneEvent, _exchange: ChatExchange): string {
    return ndjsonLine(ollamaFinal(this.kind, this.model, this.createdAt(), '', event));
  }

  statusOf(failure: ChatFailure): number {
    return ollamaStatusOf(failure);
  }

  error(failure: ChatFailure, _exchange: ChatExchange): string {
    return ollamaErrorLine(failure);
  }

  private createdAt(): string {
    return new Date(this.now()).toISOString();
  }
}
