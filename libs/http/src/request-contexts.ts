import { Injectable, Logger, Optional } from '@nestjs/common';
import { MetricsService } from '@qwen/health';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ErrorDialects } from './error-dialects';
import { REQUEST_ID_HEADER, RequestContext } from './request-context';
import { RequestClock } from './request-clock';

/**
 * Opens the RequestContext of every request (installed first by applyHttpEdge, before the body
 * parser) and, when its response closes, writes the request's ONE log line and reports it to
 * MetricsService once:
 *   `POST /v1/chat/completions 200 id=… queue=12ms prompt=31 completion=4 ttft=150ms total=900ms [stream] [finish=…] [dropped=N] [client-closed|error=kind]`
 * never prompt text or keys. A client that left is logged as 499; a stream that failed after it
 * began with the status its error maps to. Requests on a dialect's paths are logged at `log` level
 * and counted in the metrics; other routes (health probes, metrics scrapes, admin) at `debug`, not counted.
 */
@Injectable()
export class RequestContexts {
  private readonly logger = new Logger('HttpRequests');

  constructor(
    private readonly dialects: ErrorDialects,
    private readonly clock: RequestClock,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  /** Express middleware: the context of every request, `X-Request-Id` on every response. */
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      this.of(req, res);
      next();
    };
  }

  /** The context of this request; opened now if the middleware did not run (an app without applyHttpEdge). */
  of(req: Request, res: Response): RequestContext {
    const existing = RequestContext.of(req);
    if (existing) return existing;
    const dialect = this.dialects.forPath(pathOf(req))?.name ?? null;
    const context = new RequestContext(this.clock.newRequestId(), dialect, req, res, this.clock.now());
    context.attach();
    if (!res.headersSent) res.setHeader(REQUEST_ID_HEADER, context.requestId);
    res.once('close', () => {
      context.markClosed(!res.writableFinished);
      this.report(context);
    });
    return context;
  }

  private report(context: RequestContext): void {
    const { req, res, stats } = context;
    const status = context.clientGone ? 499 : (stats.errorStatus ?? res.statusCode);
    const durationMs = this.clock.now() - context.openedAt;
    const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
    const parts = [
      `${req.method} ${pathOf(req).slice(0, 120)} ${status}`,
      `id=${context.requestId}`,
      `queue=${stats.queueWaitMs === null ? '-' : `${stats.queueWaitMs}ms`}`,
      `prompt=${stats.promptTokens}`,
      `prefillEst=${stats.expectedPrefillMs === null ? '-' : `${stats.expectedPrefillMs}ms`}`,
      `completion=${stats.completionTokens}`,
      `ttft=${stats.ttftMs === null ? '-' : `${stats.ttftMs}ms`}`,
      `total=${durationMs}ms`,
    ];
    if (context.streaming) parts.push('stream');
    if (stats.finishReason && stats.finishReason !== 'stop') parts.push(`finish=${stats.finishReason}`);
    if (stats.droppedMessages > 0) parts.push(`dropped=${stats.droppedMessages}`);
    if (context.clientGone) parts.push('client-closed');
    else if (stats.errorKind) parts.push(`error=${stats.errorKind}`);
    const line = parts.join(' ');
    if (context.dialect === null) {
      this.logger.debug(line);
      return;
    }
    if (status >= 500 && status !== 499) this.logger.warn(line);
    else this.logger.log(line);
    this.metrics?.observeRequest({
      route: `${req.method} ${route}`,
      status,
      dialect: context.dialect,
      queueWaitMs: stats.queueWaitMs,
      ttftMs: stats.ttftMs,
      promptTokens: stats.promptTokens,
      completionTokens: stats.completionTokens,
      durationMs,
    });
  }
}

function pathOf(req: Request): string {
  return (req.originalUrl ?? req.url ?? '').split('?')[0];
}
