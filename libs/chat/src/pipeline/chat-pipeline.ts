/**
 * ChatPipeline — the ONE path from an HTTP request to ModelService.generate(), shared by the
 * OpenAI (/v1) and Ollama (/api) dialects. A dialect's service uses it like this:
 *
 *   const exchange = pipeline.open(req, res, 'ollama');      // request id, client-close tracking, the log line
 *   const model = catalog.resolve(dto.model);               // ModelCatalog: UnknownModelError if not served
 *
 *   // non-streaming: resolves with the whole text, or rejects (ModelError, TokenizerUnavailableError,
 *   // ContextLengthExceededError, ClientClosedError) — throw it on, the exception filter answers.
 *   const { start, text, done } = await pipeline.collect(exchange, { messages, maxTokens, stop });
 *
 *   // streaming: rejects only when the generation fails BEFORE the stream began (the filter answers with
 *   // a real status code); afterwards errors are written by `writer.error()` as one frame, then the stream ends.
 *   await pipeline.stream(exchange, { messages, maxTokens, stop }, writer);  // writer: ChatStreamWriter
 *
 * What the pipeline does for every request:
 * - creates the request id (`exchange.requestId`, 24 chars [0-9A-Za-z]; sent as `X-Request-Id`);
 * - ties cancellation to the client: when the response's connection closes before the end, it
 *   unsubscribes, and ModelService drops the queue place or stops the generation (Ctrl-C);
 *   `finishReason: 'cancelled'` is therefore never written to a client;
 * - at the `start` event (the request left the queue) sets the honest headers, for both dialects:
 *     `X-Qwen-Sampling: temperature=0.9; top_k=10` — the settings the runner loaded at start-up and
 *       uses for EVERY request (per-request sampling fields are accepted but cannot be applied);
 *       `greedy` without post_config.json, `unknown` before the first load;
 *     `X-Qwen-Truncated-Messages: N` — only when the tokenizer dropped N old messages to fit the window;
 * - streams: headers (`Cache-Control: no-cache`, `X-Accel-Buffering: no`) and every frame are
 *   flushed at once (see ChatExchange.openStream);
 * - writes exactly ONE log line per request when its response closes (id, route, status, queue wait,
 *   prompt/completion tokens, time to first token, total time; never prompt text or keys), and calls
 *   MetricsService.observeRequest() once. A stream that failed after it began is logged and counted
 *   with the status its error maps to; a client that left is logged as 499.
 *
 * Errors thrown by controllers, guards, pipes and the body parser on dialect routes go to
 * ChatExceptionFilter, which asks the dialect registered for the path (ChatErrorDialects) to answer.
 */
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { MetricsService } from '@qwen/health/metrics/metrics.service';
import type { DoneEvent, StartEvent } from './generation-events';
import { GenerationEvent, GenerationRequest } from '@qwen/model/model.contract';
import { ModelService } from '@qwen/model/model.service';
import type { Request, Response } from 'express';
import { Observable, defer, takeUntil, tap } from 'rxjs';
import { ChatClock } from './chat-clock';
import { ChatDialect, ChatExchange } from './chat-exchange';
import { ChatFailure, ClientClosedError, toChatFailure } from './chat-failure';
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

/** How a dialect frames a streamed answer (SSE for OpenAI, NDJSON for Ollama). */
export interface ChatStreamWriter {
  /** Content-Type of the stream, e.g. `text/event-stream`. */
  readonly contentType: string;
  /** At `start`, before the headers are sent (set extra headers on exchange here); returns the first frame ('' for none). */
  start(event: StartEvent, exchange: ChatExchange): string;
  /** One text delta as a frame. */
  delta(text: string, exchange: ChatExchange): string;
  /** The closing frame(s) (finish reason, usage, `[DONE]`…). */
  done(event: DoneEvent, exchange: ChatExchange): string;
  /** The status this failure would have had before the stream began (for the log and metrics). */
  statusOf(failure: ChatFailure): number;
  /** One frame carrying an error that happened after the stream began; the stream ends after it. */
  error(failure: ChatFailure, exchange: ChatExchange): string;
}

export const SAMPLING_HEADER = 'X-Qwen-Sampling';
export const TRUNCATED_HEADER = 'X-Qwen-Truncated-Messages';
export const REQUEST_ID_HEADER = 'X-Request-Id';

@Injectable()
export class ChatPipeline {
  private readonly logger = new Logger('ChatRequests');
  private readonly exchanges = new WeakMap<Response, ChatExchange>();

  constructor(
    @Inject(ModelService) private readonly model: Pick<ModelService, 'generate' | 'snapshot'>,
    private readonly clock: ChatClock,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  /** The exchange of this response, created on first call (idempotent). */
  open(req: Request, res: Response, dialect: ChatDialect): ChatExchange {
    const existing = this.exchanges.get(res);
    if (existing) return existing;
    const exchange = new ChatExchange(this.clock.newRequestId(), dialect, req, res, this.clock.now());
    this.exchanges.set(res, exchange);
    if (!res.headersSent) res.setHeader(REQUEST_ID_HEADER, exchange.requestId);
    res.once('close', () => {
      exchange.markClosed(!res.writableFinished);
      this.report(exchange);
    });
    return exchange;
  }

  /** The exchange already opened for this response, if any. */
  find(res: Response): ChatExchange | undefined {
    return this.exchanges.get(res);
  }

  /**
   * ModelService.generate() for this exchange: cold (subscribing enqueues), unsubscribed when the
   * client leaves, recording the figures of the log line, setting the honest headers at `start`.
   */
  generate(exchange: ChatExchange, request: ChatGenerationRequest): Observable<GenerationEvent> {
    return defer(() => this.model.generate({ ...request, requestId: exchange.requestId })).pipe(
      takeUntil(exchange.clientClosed$),
      tap({
        next: (event) => this.record(exchange, event),
        error: (error: unknown) => {
          exchange.stats.errorKind ??= toChatFailure(error).kind;
        },
      }),
    );
  }

  /** Runs the generation to its end and returns the whole text (for non-streamed answers). */
  collect(exchange: ChatExchange, request: ChatGenerationRequest): Promise<CollectedGeneration> {
    return new Promise<CollectedGeneration>((resolve, reject) => {
      let start: StartEvent | null = null;
      let done: DoneEvent | null = null;
      const parts: string[] = [];
      this.generate(exchange, request).subscribe({
        next: (event) => {
          if (event.type === 'start') start = event;
          else if (event.type === 'delta') parts.push(event.text);
          else done = event;
        },
        error: reject,
        complete: () => {
          if (start && done && !exchange.clientGone) resolve({ start, text: parts.join(''), done });
          else reject(exchange.clientGone ? new ClientClosedError() : new Error('the generation ended without its last event'));
        },
      });
    });
  }

  /**
   * Streams the generation through `writer`. Resolves when the stream is over (ended, failed inside
   * the stream, or the client left); rejects only when it failed before the stream began.
   */
  stream(exchange: ChatExchange, request: ChatGenerationRequest, writer: ChatStreamWriter): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.generate(exchange, request).subscribe({
        next: (event) => {
          if (event.type === 'start') {
            const first = writer.start(event, exchange);
            exchange.openStream(writer.contentType);
            if (first) exchange.write(first);
          } else if (event.type === 'delta') {
            exchange.write(writer.delta(event.text, exchange));
          } else if (event.finishReason !== 'cancelled') {
            exchange.write(writer.done(event, exchange));
          }
        },
        error: (error: unknown) => {
          if (!exchange.streaming) {
            reject(error);
            return;
          }
          const failure = toChatFailure(error);
          exchange.stats.errorStatus = writer.statusOf(failure);
          if (failure.kind === 'unexpected') this.logger.error(`request ${exchange.requestId} failed in its stream`, (error as Error)?.stack);
          exchange.write(writer.error(failure, exchange));
          exchange.end();
          resolve();
        },
        complete: () => {
          if (exchange.clientGone) {
            resolve();
            return;
          }
          if (!exchange.streaming) {
            reject(new Error('the generation ended without starting'));
            return;
          }
          exchange.end();
          resolve();
        },
      });
    });
  }

  /** Records the status of an error answered before any stream began (called by the exception filter). */
  noteError(exchange: ChatExchange, status: number, kind: string): void {
    exchange.stats.errorStatus = status;
    exchange.stats.errorKind = kind;
  }

  private record(exchange: ChatExchange, event: GenerationEvent): void {
    const stats = exchange.stats;
    if (event.type === 'start') {
      stats.queueWaitMs = event.queuedMs;
      stats.promptTokens = event.promptTokens;
      stats.droppedMessages = event.droppedMessages;
      exchange.setHeader(SAMPLING_HEADER, formatSampling(this.model.snapshot().sampling));
      if (event.droppedMessages > 0) exchange.setHeader(TRUNCATED_HEADER, String(event.droppedMessages));
    } else if (event.type === 'done') {
      stats.promptTokens = event.usage.promptTokens;
      stats.completionTokens = event.usage.completionTokens;
      stats.ttftMs = event.timings.ttftMs;
      stats.finishReason = event.finishReason;
    }
  }

  /** The one log line and the metrics of a finished request. */
  private report(exchange: ChatExchange): void {
    const { req, res, stats } = exchange;
    const status = exchange.clientGone ? 499 : (stats.errorStatus ?? res.statusCode);
    const durationMs = this.clock.now() - exchange.openedAt;
    const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
    const path = (req.originalUrl ?? req.url).split('?')[0].slice(0, 120);
    const parts = [
      `${req.method} ${path} ${status}`,
      `id=${exchange.requestId}`,
      `queue=${stats.queueWaitMs === null ? '-' : `${stats.queueWaitMs}ms`}`,
      `prompt=${stats.promptTokens}`,
      `completion=${stats.completionTokens}`,
      `ttft=${stats.ttftMs === null ? '-' : `${stats.ttftMs}ms`}`,
      `total=${durationMs}ms`,
    ];
    if (exchange.streaming) parts.push('stream');
    if (stats.finishReason && stats.finishReason !== 'stop') parts.push(`finish=${stats.finishReason}`);
    if (stats.droppedMessages > 0) parts.push(`dropped=${stats.droppedMessages}`);
    if (exchange.clientGone) parts.push('client-closed');
    else if (stats.errorKind) parts.push(`error=${stats.errorKind}`);
    const line = parts.join(' ');
    if (status >= 500 && status !== 499) this.logger.warn(line);
    else this.logger.log(line);
    this.metrics?.observeRequest({
      route: `${req.method} ${route}`,
      status,
      dialect: exchange.dialect,
      queueWaitMs: stats.queueWaitMs,
      ttftMs: stats.ttftMs,
      promptTokens: stats.promptTokens,
      completionTokens: stats.completionTokens,
      durationMs,
    });
  }
}
