import { ArgumentsHost, Catch, Injectable } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import { ChatErrorDialects } from './chat-error-dialects';
import { ChatPipeline } from './chat-pipeline';

/**
 * Global filter (APP_FILTER): on the paths a chat dialect owns (/v1 → OpenAI, /api → Ollama) every
 * error — from controllers, guards, validation, the body parser, unknown routes (404) — is answered
 * in that dialect's shape and counted in the request's single log line. Other paths get Nest's
 * default handling.
 */
@Catch()
@Injectable()
export class ChatExceptionFilter extends BaseExceptionFilter {
  constructor(
    private readonly dialects: ChatErrorDialects,
    private readonly pipeline: ChatPipeline,
  ) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(exception, host);
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const path = (req.originalUrl ?? req.url ?? '').split('?')[0];
    const dialect = this.dialects.find(path);
    if (!dialect) return super.catch(exception, host);
    const exchange = this.pipeline.open(req, res, dialect.dialect);
    if (exchange.clientGone || res.destroyed) return;
    if (res.headersSent) {
      // A stream that already began: its own error frame was written by the pipeline.
      exchange.end();
      return;
    }
    const { status, kind } = dialect.respond(exception, exchange);
    this.pipeline.noteError(exchange, status, kind);
  }
}
