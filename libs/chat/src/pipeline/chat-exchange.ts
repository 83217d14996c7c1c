import type { Request, Response } from 'express';
import { Observable, Subject } from 'rxjs';

export type ChatDialect = 'openai' | 'ollama';

/** Per-request figures the single log line and the metrics report. */
export interface ExchangeStats {
  queueWaitMs: number | null;
  promptTokens: number;
  completionTokens: number;
  ttftMs: number | null;
  droppedMessages: number;
  finishReason: string | null;
  /** Set when an error was reported (status mapped by the dialect), also inside an already started stream. */
  errorStatus: number | null;
  /** Short reason for the log line (never prompt text). */
  errorKind: string | null;
}

/**
 * One HTTP request of a chat dialect, from arrival to the closed response. Created by
 * ChatPipeline.open() (or by the exception filter when the request failed before a controller).
 * Knows when its client went away and owns the raw streaming writes.
 */
export class ChatExchange {
  readonly stats: ExchangeStats = {
    queueWaitMs: null,
    promptTokens: 0,
    completionTokens: 0,
    ttftMs: null,
    droppedMessages: 0,
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
    readonly dialect: ChatDialect,
    readonly req: Request,
    readonly res: Response,
    /** Epoch ms when the exchange was opened. */
    readonly openedAt: number,
  ) {}

  /** Emits once (and completes) when the client disconnects before the response was fully written. */
  get clientClosed$(): Observable<void> {
    return this.closedSubject.asObservable();
  }

  /** The client disconnected before the end of the response. */
  get clientGone(): boolean {
    return this.gone;
  }

  /** Called by the pipeline when the response's connection closed. */
  markClosed(beforeEnd: boolean): void {
    if (beforeEnd && !this.gone) {
      this.gone = true;
      this.closedSubject.next();
    }
    this.closedSubject.complete();
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
