import type { OpenAiErrorBody } from '../openai/openai-error';
import type { ChatStreamWriter } from '../pipeline/chat-pipeline';
import { ResponseAssembly, type ResponseEvent } from './response-assembly';
import type { ResponseEcho, ResponseOutcome, ResponseToolCall } from './response-object';

/**
 * Frames a ResponseAssembly's events as server-sent events (`event: <type>` + `data: <json>`), each
 * with its `sequence_number` from 0 up, as OpenAI streams them. No `[DONE]`: the stream ends after
 * `response.completed`, `response.incomplete` or `response.failed`.
 */
export class ResponseSseWriter implements ChatStreamWriter {
  readonly contentType = 'text/event-stream; charset=utf-8';
  private sequence = 0;
  private readonly assembly: ResponseAssembly;

  constructor(echo: ResponseEcho) {
    this.assembly = new ResponseAssembly(echo);
  }

  start(): string {
    return this.frames(this.assembly.start());
  }

  delta(text: string): string {
    return this.frames(this.assembly.text(text));
  }

  /** A complete call (`index` counts the calls of the answer; the assembly keeps its own order). */
  toolCall(_index: number, call: ResponseToolCall): string {
    return this.frames(this.assembly.toolCall(call));
  }

  done(outcome: ResponseOutcome): string {
    return this.frames(this.assembly.done(outcome));
  }

  /** `response.failed` with the code and message of the body OpenAI's error table gave. */
  errorFrame(body: unknown): string {
    const error = (body as Partial<OpenAiErrorBody> | null)?.error;
    return this.frames(this.assembly.failed({ code: error?.code ?? error?.type ?? 'server_error', message: error?.message ?? 'the generation failed' }));
  }

  private frames(events: ResponseEvent[]): string {
    return events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify({ ...event, sequence_number: this.sequence++ })}\n\n`).join('');
  }
}
