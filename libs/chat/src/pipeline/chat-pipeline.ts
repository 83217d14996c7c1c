/**
 * ChatPipeline — the ONE path from an HTTP request to ModelService.generate(), shared by the
 * OpenAI (/v1) and Ollama (/api) dialects. The request's context (id, `X-Request-Id`, the log line,
 * metrics, client-close tracking) is opened by the HTTP edge (@qwen/http) before any handler runs;
 * a dialect's handler takes it with `@CurrentRequest() request: RequestContext` and uses the pipeline:
 *
 *   const model = catalog.resolve(dto.model);               // ModelCatalog: UnknownModelError if not served
 *
 *   // non-streaming: resolves with the whole text, or rejects (ModelError, TokenizerUnavailableError,
 *   // ContextLengthExceededError, ClientClosedError) — throw it on, the exception filter answers.
 *   const { start, text, done } = await pipeline.collect(request, { messages, maxTokens, stop });
 *
 *   // streaming: rejects only when the generation fails BEFORE the stream began (the filter answers with
 *   // a real status code); afterwards the dialect's error table answers and `writer.errorFrame()` frames
 *   // its body as one last frame, then the stream ends.
 *   await pipeline.stream(request, { messages, maxTokens, stop }, writer);  // writer: ChatStreamWriter
 *
 * What the pipeline does for every generation:
 * - ties cancellation to the client: when the response's connection closes before the end, it
 *   unsubscribes, and ModelService drops the queue place or stops the generation (Ctrl-C);
 * - records the figures of the request's log line (queue wait, tokens, time to first token) on its context;
 * - non-streamed requests are admitted with `maxQueueWaitMs` = model.nonStreamedMaxWaitMs: one that would wait
 *   longer is refused at once (503 + Retry-After in the dialect's shape) instead of timing out;
 * - streams whose framing has comments (OpenAI SSE) open at the first `progress` event — the request
 *   is accepted and waits — and get one comment per progress event (position, prompt fed, ETA: see
 *   progressComment), so clients and proxies see bytes while the request waits; NDJSON (Ollama)
 *   cannot carry them and opens at `start` as before;
 * - at the `start` event (the request left the queue) sets the honest headers, for both dialects
 *   (a stream already open gets the same facts as comments):
 *     `X-Qwen-Queue-Wait-Ms: 1234` — how long it waited in the queue;
 *     `X-Qwen-Sampling: temperature=0.9; top_k=10` — the settings the runner loaded at start-up and
 *       uses for EVERY request (per-request sampling fields are accepted but cannot be applied);
 *       `greedy` without post_config.json, `unknown` before the first load;
 *     `X-Qwen-Truncated-Messages: N` — only when the tokenizer dropped N old messages to fit the window;
 * - streams: headers (`Cache-Control: no-cache`, `X-Accel-Buffering: no`) and every frame are
 *   flushed at once (see RequestContext.openStream).
 */
import { Inject, Injectable } from '@nestjs/common';
import { ErrorDialects, RequestContext } from '@qwen/http';
import { AdmissionLimits, GenerationEvent, GenerationRequest, ModelService } from '@qwen/model';
import { Observable, defer, takeUntil, tap } from 'rxjs';
import { ClientClosedError, toChatFailure } from './chat-failure';
import { CHAT_OPTIONS, ChatModuleOptions } from '../chat.options';
import type { DoneEvent, StartEvent } from './generation-events';
import { progressComment } from './progress-comment';
import { formatSampling } from './sampling-header';

/** A generation request without its id (the pipeline adds it). */
export type ChatGenerationRequest = Omit<GenerationRequest, 'requestId'>;

/** The result of a non-streamed generation. */
export interface CollectedGeneration {
  start: StartEvent;
  /** The whole answer (no stop string, nothing past the limit). */
  text: string;
  done: DoneEvent;
}

/** How a dialect frames a streamed answer (SSE for OpenAI, NDJSON for Ollama). It frames; it does not map errors. */
export interface ChatStreamWriter {
  /** Content-Type of the stream, e.g. `text/event-stream`. */
  readonly contentType: string;
  /** At `start` (the headers may already be sent: see `comment`); returns the first frame ('' for none). */
  start(event: StartEvent): string;
  /**
   * A line clients do not show (an SSE comment), for the progress of a waiting request. A writer
   * without it (NDJSON has no comments) gets no progress and its stream opens at `start`.
   */
  comment?(text: string): string;
  /** One text delta as a frame. */
  delta(text: string): string;
  /** The closing frame(s) (finish reason, usage, `[DONE]`…). */
  done(event: DoneEvent): string;
  /** One frame carrying the body the dialect's error table gave for a failure after the stream began. */
  errorFrame(body: unknown): string;
}

const SAMPLING_HEADER = 'X-Qwen-Sampling';
const TRUNCATED_HEADER = 'X-Qwen-Truncated-Messages';
/** How long the request waited in the queue, ms. */
export const QUEUE_WAIT_HEADER = 'X-Qwen-Queue-Wait-Ms';

@Injectable()
export class ChatPipeline {
  constructor(
    @Inject(ModelService) private readonly model: Pick<ModelService, 'generate' | 'snapshot'>,
    private readonly dialects: ErrorDialects,
    @Inject(CHAT_OPTIONS) private readonly options: ChatModuleOptions,
  ) {}

  /**
   * ModelService.generate() for this request: cold (subscribing enqueues), unsubscribed when the
   * client leaves, recording the figures of the log line, setting the honest headers at `start`.
   */
  generate(request: RequestContext, generation: ChatGenerationRequest, limits: AdmissionLimits = {}): Observable<GenerationEvent> {
    return defer(() => this.model.generate({ ...generation, requestId: request.requestId }, limits)).pipe(
      takeUntil(request.clientClosed$),
      tap({
        next: (event) => this.record(request, event),
        error: (error: unknown) => {
          request.stats.errorKind ??= toChatFailure(error).kind;
        },
      }),
    );
  }

  /**
   * Runs the generation to its end and returns the whole text (for non-streamed answers). A request
   * that would wait longer than model.nonStreamedMaxWaitMs is refused at once (QueueWaitTooLongError).
   */
  collect(request: RequestContext, generation: ChatGenerationRequest): Promise<CollectedGeneration> {
    return new Promise<CollectedGeneration>((resolve, reject) => {
      let start: StartEvent | null = null;
      let done: DoneEvent | null = null;
      const parts: string[] = [];
      this.generate(request, generation, { maxQueueWaitMs: this.options.model.nonStreamedMaxWaitMs }).subscribe({
        next: (event) => {
          if (event.type === 'start') start = event;
          else if (event.type === 'delta') parts.push(event.text);
          else if (event.type === 'done') done = event;
        },
        error: reject,
        complete: () => {
          if (start && done && !request.clientGone) resolve({ start, text: parts.join(''), done });
          else reject(request.clientGone ? new ClientClosedError() : new Error('the generation ended without its last event'));
        },
      });
    });
  }

  /**
   * Streams the generation through `writer`. Resolves when the stream is over (ended, failed inside
   * the stream, or the client left); rejects only when it failed before the stream began.
   */
  stream(request: RequestContext, generation: ChatGenerationRequest, writer: ChatStreamWriter): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.generate(request, generation).subscribe({
        next: (event) => {
          switch (event.type) {
            case 'progress':
              if (!writer.comment) break;
              this.open(request, writer);
              request.write(writer.comment(progressComment(event)));
              break;
            case 'start': {
              const first = writer.start(event);
              if (request.streaming && writer.comment) request.write(writer.comment(startComment(event)));
              this.open(request, writer);
              if (first) request.write(first);
              break;
            }
            case 'delta':
              request.write(writer.delta(event.text));
              break;
            case 'done':
              request.write(writer.done(event));
              break;
            default:
              break; // an event this pipeline does not know
          }
        },
        error: (error: unknown) => {
          const dialect = this.dialects.of(request);
          if (!request.streaming || !dialect) {
            reject(error);
            return;
          }
          // The same table as before the stream began; the status goes to the log line and the metrics.
          const answer = dialect.answer(error, request);
          request.stats.errorStatus = answer.status;
          request.write(writer.errorFrame(answer.body));
          request.end();
          resolve();
        },
        complete: () => {
          if (request.clientGone) {
            resolve();
            return;
          }
          if (!request.streaming) {
            reject(new Error('the generation ended without starting'));
            return;
          }
          request.end();
          resolve();
        },
      });
    });
  }

  /** Sends the headers of the stream (once): at the first progress event, or at `start`. */
  private open(request: RequestContext, writer: ChatStreamWriter): void {
    if (request.streaming) return;
    request.setHeader(SAMPLING_HEADER, formatSampling(this.model.snapshot().sampling));
    request.openStream(writer.contentType);
  }

  private record(request: RequestContext, event: GenerationEvent): void {
    const stats = request.stats;
    if (event.type === 'start') {
      stats.queueWaitMs = event.queuedMs;
      stats.promptTokens = event.promptTokens;
      stats.droppedMessages = event.droppedMessages;
      request.setHeader(SAMPLING_HEADER, formatSampling(this.model.snapshot().sampling));
      request.setHeader(QUEUE_WAIT_HEADER, String(event.queuedMs));
      if (event.droppedMessages > 0) request.setHeader(TRUNCATED_HEADER, String(event.droppedMessages));
    } else if (event.type === 'done') {
      stats.promptTokens = event.usage.promptTokens;
      stats.completionTokens = event.usage.completionTokens;
      stats.ttftMs = event.timings.ttftMs;
      stats.finishReason = event.finishReason;
    }
  }
}

/** What the headers of a stream opened before `start` could not say yet. */
function startComment(event: StartEvent): string {
  const dropped = event.droppedMessages > 0 ? `, ${event.droppedMessages} old messages dropped to fit the context window` : '';
  return `started: waited ${event.queuedMs} ms in the queue${dropped}`;
}
