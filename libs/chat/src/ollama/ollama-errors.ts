import { HttpException, Injectable, Logger } from '@nestjs/common';
import { ErrorAnswer, RegisteredErrorDialect, RequestContext } from '@qwen/http';
import { ChatFailure, classifyChatFailure } from '../pipeline/chat-failure';
import { UnknownModelError } from '../pipeline/model-catalog';
import { OllamaHttpError } from './ollama-http-error';

/** Ollama's own words for a full queue (clients may match on them). */
const OLLAMA_SERVER_BUSY = 'server busy, please try again. maximum pending requests exceeded';

/** Ollama's status for a failure: 503 busy/unavailable, 500 when the model failed, 400 too long, 404 unknown model. */
function ollamaStatusOf(failure: ChatFailure): number {
  switch (failure.kind) {
    case 'queue-full':
    case 'queue-timeout':
    case 'queue-wait-too-long':
    case 'unavailable':
    case 'tokenizer-unavailable':
      return 503;
    case 'context-length':
    case 'invalid-request':
    case 'json-validate-failed':
      return 400;
    case 'model-not-found':
      return 404;
    case 'client-closed':
      return 499;
    case 'process-failed':
    case 'timeout':
    case 'unexpected':
    default:
      return 500;
  }
}

/** The text of `{"error": …}` for a failure (nothing internal for the unexpected). */
function ollamaMessageOf(failure: ChatFailure): string {
  switch (failure.kind) {
    case 'queue-full':
      return OLLAMA_SERVER_BUSY;
    case 'model-not-found':
      return `model '${(failure.error as UnknownModelError).requested}' not found`;
    case 'unexpected':
      return 'internal server error';
    default:
      return failure.message;
  }
}

/**
 * Ollama's error table for /api/*: `{"error": "…"}` with Ollama's status codes — including unknown
 * /api routes (404), malformed JSON (400) and bodies over the limit (413). Registered with
 * ErrorDialects; used by HttpExceptionFilter and, inside a started NDJSON stream, by ChatPipeline.
 */
@Injectable()
export class OllamaErrorDialect extends RegisteredErrorDialect {
  readonly name = 'ollama';
  readonly mount = '/api';
  private readonly logger = new Logger('OllamaApi');

  answer(error: unknown, request: RequestContext): ErrorAnswer {
    const { status, message, kind, retryAfterSeconds } = this.describe(error, request);
    return { status, headers: retryAfterSeconds === null ? {} : { 'Retry-After': String(retryAfterSeconds) }, body: { error: message }, kind };
  }

  private describe(error: unknown, request: RequestContext): { status: number; message: string; kind: string; retryAfterSeconds: number | null } {
    if (error instanceof OllamaHttpError) {
      const status = error.getStatus();
      return { status, message: error.message, kind: status === 400 ? 'invalid-request' : `http-${status}`, retryAfterSeconds: null };
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return { status, message: httpMessage(error, status, request), kind: `http-${status}`, retryAfterSeconds: null };
    }
    const failure = classifyChatFailure(error);
    // The JSON body parser's own errors (http-errors, not HttpException): too large 413, malformed 400.
    const parserError = error as { status?: unknown; expose?: unknown; type?: unknown; message?: unknown } | null;
    if (!failure && parserError?.expose === true && typeof parserError.status === 'number' && parserError.status >= 400 && parserError.status < 500) {
      const status = parserError.status;
      const message = status === 413 ? 'request body too large' : `invalid request body: ${String(parserError.message)}`;
      return { status, message, kind: `http-${status}`, retryAfterSeconds: null };
    }
    if (!failure) {
      this.logger.error(`request ${request.requestId} failed unexpectedly`, (error as Error)?.stack ?? String(error));
      return { status: 500, message: 'internal server error', kind: 'unexpected', retryAfterSeconds: null };
    }
    return { status: ollamaStatusOf(failure), message: ollamaMessageOf(failure), kind: failure.kind, retryAfterSeconds: failure.retryAfterSeconds };
  }
}

/** Nest's own exceptions on /api: unknown routes, the JSON body parser, body size. */
function httpMessage(error: HttpException, status: number, request: RequestContext): string {
  const response = error.getResponse();
  const raw = typeof response === 'string' ? response : (response as { message?: unknown }).message;
  const text = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : error.message;
  if (status === 404) return `404 page not found: ${request.req.method} ${(request.req.originalUrl ?? request.req.url).split('?')[0]}`;
  if (status === 413) return 'request body too large';
  if (status === 400) return `invalid request body: ${text}`;
  return text;
}
