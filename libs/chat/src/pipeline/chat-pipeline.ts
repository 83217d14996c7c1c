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
 *   const { start, text, toolCalls, done } = await pipeline.collect(request, { messages, maxTokens, stop }, plan);
 *
 *   // streaming: rejects only when the generation fails BEFORE the stream began (the filter answers with
 *   // a real status code); afterwards the dialect's error table answers and `writer.errorFrame()` frames
 *   // its body as one last frame, then the stream ends.
 *   await pipeline.stream(request, { messages, maxTokens, stop }, writer, plan);  // writer: ChatStreamWriter
 *
 * `plan` (AnswerPlan, default plain text) says which tools are offered and whether JSON is wanted; the
 * answer is shaped by AssistantTurn (tool calls parsed, JSON validated and retried).
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
 *     `X-Qwen-Max-Tokens-Clamped: 4096->994` — only when the client's output limit was larger than the room left;
 * - streams: headers (`Cache-Control: no-cache`, `X-Accel-Buffering: no`) and every frame are
 *   flushed at once (see RequestContext.openStream).
 */
import { Inject, Injectable } from '@nestjs/common';
import { ErrorDialects, RequestContext } from '@qwen/http';
import { AdmissionLimits, GenerationRequest, ModelService } from '@qwen/model';
import { OUTPUT_LIMIT_HEADER, ParsedToolCall } from '@qwen/tools';
import { Observable, defer, takeUntil, tap } from 'rxjs';
import type { AnswerEvent, AnswerPlan } from '../assistant/assistant-events';
import { PLAIN_ANSWER } from '../assistant/assistant-events';
import { AssistantTurn } from '../assistant/assistant-turn';
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
  /** The answer's content (no stop string, nothing past the limit, no tool-call text). */
  text: string;
  /** The tool calls the model made, in order (empty without tools). */
  toolCalls: ParsedToolCall[];
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
  /** One complete tool call as frame(s); `index` counts the calls of this answer from 0. */
  toolCall(index: number, call: ParsedToolCall): string;
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
    @Inject(ModelService) private readonly model: Pick<ModelService, 'snapshot'>,
    private readonly assistant: AssistantTurn,
    private readonly dialects: ErrorDialects,
    @Inject(CHAT_OPTIONS) private readonly options: ChatModuleOptions,
  ) {}

  /**
   * The shaped answer for this request (AssistantTurn over ModelService.generate()): cold (subscribing
   * enqueues), unsubscribed when the client leaves, recording the figures of the log line, setting the
   * honest headers at `start`. `streamed`: text goes out as produced (a JSON answer is then not retried).
   */
  answer(request: RequestContext, generation: ChatGenerationRequest, plan: AnswerPlan = PLAIN_ANSWER, streamed = false, limits: AdmissionLimits = {}): Observable<AnswerEvent> {
    return defer(() => this.assistant.answer({ ...generation, requestId: request.requestId }, plan, { streamed, limits })).pipe(
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
   * Runs the generation to its end and returns the whole answer (for non-streamed answers). A request
   * that would wait longer than model.nonStreamedMaxWaitMs is refused at once (QueueWaitTooLongError).
   */
  collect(request: RequestContext, generation: ChatGenerationRequest, plan: AnswerPlan = PLAIN_ANSWER): Promise<CollectedGeneration> {
    return new Promise<CollectedGeneration>((resolve, reject) => {
      let start: StartEvent | null = null;
      let done: DoneEvent | null = null;
      const parts: string[] = [];
      const toolCalls: ParsedToolCall[] = [];
      this.answer(request, generation, plan, false, { maxQueueWaitMs: this.options.model.nonStreamedMaxWaitMs }).subscribe({
        next: (event) => {
          switch (event.type) {
            case 'start':
              start = event;
              break;
            case 'text':
              parts.push(event.text);
              break;
            case 'tool-call':
              toolCalls.push(event.call);
              break;
            case 'done':
              done = event;
              break;
            default:
              break; // progress of a waiting request: nothing to send before the answer
          }
        },
        error: reject,
        complete: () => {
          if (start && done && !request.clientGone) resolve({ start, text: parts.join(''), toolCalls, done });
          else reject(request.clientGone ? new ClientClosedError() : new Error('the generation ended without its last event'));
        },
      });
    });
  }

  /**
   * Streams the generation through `writer`. Resolves when the stream is over (ended, failed inside
   * the stream, or the client left); rejects only when it failed before the stream began.
   */
  stream(request: RequestContext, generation: ChatGenerationRequest, writer: ChatStreamWriter, plan: AnswerPlan = PLAIN_ANSWER): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.answer(request, generation, plan, true).subscribe({
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
            case 'text':
              request.write(writer.delta(event.text));
              break;
            case 'tool-call':
              request.write(writer.toolCall(event.index, event.call));
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

  private record(request: RequestContext, event: AnswerEvent): void {
    const stats = request.stats;
    if (event.type === 'start') {
      stats.queueWaitMs = event.queuedMs;
      stats.promptTokens = event.promptTokens;
      stats.droppedMessages = event.droppedMessages;
      stats.expectedPrefillMs = event.expectedPrefillMs;
      request.setHeader(SAMPLING_HEADER, formatSampling(this.model.snapshot().sampling));
      request.setHeader(QUEUE_WAIT_HEADER, String(event.queuedMs));
      if (event.droppedMessages > 0) request.setHeader(TRUNCATED_HEADER, String(event.droppedMessages));
      const requested = event.requestedMaxTokens;
      if (requested !== null && requested > event.maxTokens) request.setHeader(OUTPUT_LIMIT_HEADER, `${requested}->${event.maxTokens}`);
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
