import { ArgumentsHost, Catch, Injectable } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import { ErrorDialects } from './error-dialects';
import { RequestContexts } from './request-contexts';

/**
 * Global filter (APP_FILTER): every error on a dialect's paths — from controllers, guards, pipes,
 * the body parser, unknown routes (404) — is answered by that dialect's table (ErrorDialect.answer)
 * and noted on the request's context for its log line. Other paths get Nest's default handling.
 */
@Catch()
@Injectable()
export class HttpExceptionFilter extends BaseExceptionFilter {
  constructor(
    private readonly dialects: ErrorDialects,
    private readonly contexts: RequestContexts,
  ) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(exception, host);
    const http = host.switchToHttp();
    const context = this.contexts.of(http.getRequest<Request>(), http.getResponse<Response>());
    const dialect = this.dialects.of(context);
    if (!dialect) return super.catch(exception, host);
    const res = context.res;
    if (context.clientGone || res.destroyed) return;
    if (res.headersSent) {
      // A stream that already began: its own error frame was written by its writer.
      context.end();
      return;
    }
    const answer = dialect.answer(exception, context);
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
    res.status(answer.status).json(answer.body);
    context.noteError(answer.status, answer.kind);
  }
}
