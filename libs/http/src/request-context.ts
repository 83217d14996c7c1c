import type { Request, Response } from 'express';
import { Observable, Subject } from 'rxjs';

/** Figures of one request for its log line and its metrics (filled by whoever serves it). */
export interface RequestStats {
  queueWaitMs: number | null;
  promptTokens: number;
  completionTokens: number;
  ttftMs: number | null;
  droppedMessages: number;
  /** Expected prefill time of the prompt (prompt tokens ÷ the runner's token/s), ms; null before the runner took it. */
  expectedPrefillMs: number | null;
  finishReason: string | null;
  /** Set when an error was answered (by the error dialect's table), also inside an already started stream. */
  errorStatus: number | null;
  /** Short reason for the log line (never prompt text). */
  errorKind: string | null;
}

/** `X-Request-Id`: sent on every response, also in the log line. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

const CONTEXT = Symbol('qwen.requestContext');

/**
 * One HTTP request, from arrival to its closed response: its id, the API dialect whose error table
 * answers it (decided once, when it arrives: see ErrorDialects), the figures of its one log line,
 * whether its client went away, and the raw writes of a streamed answer.
 * Created for EVERY request by the edge middleware (RequestContexts.middleware()); a handler gets
 * it with the `@CurrentRequest()` parameter decorator or `RequestContext.of(req)`.
 */
export class RequestContext {
  readonly stats: RequestStats = {
    queueWaitMs: null,
    promptTokens: 0,
    completionTokens: 0,
    ttftMs: null,
    droppedMessages: 0,
    expectedPrefillMs: null,
    finishReason: null,
    errorStatus: null,
    errorKind: null,
  };
  /** A streamed (SSE / NDJSON) response was started: the status is sent, errors go inside the stream. */
  streaming = false;
  private gone = false;
  private readonly closedSubject = new Subject<void>();

  constructor(
    readonly requestId: string,
    /** The error dialect owning this request's path ('openai', 'ollama'…), null for other routes. */
    readonly dialect: string | null,
    readonly req: Request,
    readonly res: Response,
    /** Epoch ms when the request arrived. */
    readonly openedAt: number,
  ) {}

  /** The context the edge middleware attached to this request, if any. */
  static of(req: Request): RequestContext | undefined {
    return (req as unknown as Record<symbol, RequestContext | undefined>)[CONTEXT];
  }

  /** Attaches this context to its request (done once by RequestContexts). */
  attach(): void {
    (this.req as unknown as Record<symbol, RequestContext>)[CONTEXT] = this;
  }

  /** Emits once (and completes) when the client disconnects before the response was fully written. */
  get clientClosed$(): Observable<void> {
    return this.closedSubject.asObservable();
  }

  /** The client disconnected before the end of the response. */
  get clientGone(): boolean {
    return this.gone;
  }

  /** Called when the response's connection closed. */
  markClosed(beforeEnd: boolean): void {
    if (beforeEnd && !this.gone) {
      this.gone = true;
      this.closedSubject.next();
    }
    this.closedSubject.complete();
  }

  /** Records the error answered for this request (status and a short kind for the log line). */
  noteError(status: number, kind: string): void {
    this.stats.errorStatus = status;
    this.stats.errorKind = kind;
  }

  /**
   * Starts a streamed response: 200, the content type, `Cache-Control: no-cache`,
   * `X-Accel-Buffering: no`, headers flushed at once and Nagle off, so every write leaves immediately.
   */
  openStream(contentType: string): void {
    if (this.streaming) return;
    this.streaming = true;
    const res = this.res;
    res.status(200);
    res.setHeader('Content-Type', contentType);
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.socket?.setNoDelay(true);
  }

  /** Writes one frame of a started stream; false when the client is gone. */
  write(frame: string): boolean {
    if (this.gone || this.res.writableEnded || this.res.destroyed) return false;
    this.res.write(frame);
    return true;
  }

  /** Ends a started stream. */
  end(): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end();
  }

  /** Sets a response header while the headers are not sent yet. */
  setHeader(name: string, value: string): void {
    if (!this.res.headersSent) this.res.setHeader(name, value);
  }
}
