import { HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ErrorAnswer, RegisteredErrorDialect, RequestContext } from '@qwen/http';
import { JSON_VALIDATE_FAILED } from '@qwen/tools';
import { ChatFailure, classifyChatFailure } from '../pipeline/chat-failure';

/** OpenAI's error body: `{"error":{"message","type","param","code"}}`. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error answered in OpenAI's shape; thrown by guards, pipes and the dialect's services. */
export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'OpenAiError';
  }

  static invalidRequest(message: string, param: string | null = null, code: string | null = null): OpenAiError {
    return new OpenAiError(HttpStatus.BAD_REQUEST, message, 'invalid_request_error', code, param);
  }

  body(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Maps a dialect-independent failure (queue full, model loading…) to OpenAI's status and body. */
export function openAiErrorOf(failure: ChatFailure, param: string | null = null): OpenAiError {
  const retry = (seconds: number | null): Record<string, string> => (seconds === null ? {} : { 'Retry-After': String(seconds) });
  switch (failure.kind) {
    case 'queue-full':
      return new OpenAiError(429, failure.message, 'rate_limit_error', 'queue_full', null, retry(failure.retryAfterSeconds));
    case 'queue-timeout':
      return new OpenAiError(503, failure.message, 'server_error', 'queue_timeout', null, retry(failure.retryAfterSeconds));
    case 'queue-wait-too-long':
      return new OpenAiError(503, failure.message, 'server_error', 'queue_wait_too_long', null, retry(failure.retryAfterSeconds));
    case 'unavailable':
      return new OpenAiError(503, failure.message, 'server_error', 'model_unavailable', null, retry(failure.retryAfterSeconds));
    case 'tokenizer-unavailable':
      return new OpenAiError(503, failure.message, 'server_error', 'tokenizer_unavailable', null, retry(failure.retryAfterSeconds));
    case 'process-failed':
      return new OpenAiError(502, failure.message, 'server_error', 'model_process_failed');
    case 'timeout':
      // Retrying a generation that ran out of time would only take as long again.
      return new OpenAiError(504, failure.message, 'server_error', 'generation_timeout', null, { 'x-should-retry': 'false' });
    case 'context-length':
      return new OpenAiError(400, failure.message, 'invalid_request_error', 'context_length_exceeded', param ?? 'messages');
    case 'model-not-found':
      return new OpenAiError(404, failure.message, 'invalid_request_error', 'model_not_found', 'model');
    case 'invalid-request':
      return new OpenAiError(400, failure.message, 'invalid_request_error', null, failure.param ?? param);
    case 'json-validate-failed':
      return new OpenAiError(400, failure.message, 'invalid_request_error', JSON_VALIDATE_FAILED, failure.param ?? param);
    case 'client-closed':
      return new OpenAiError(499, failure.message, 'invalid_request_error', 'client_closed');
    default:
      return new OpenAiError(500, 'The server had an error while processing your request. Sorry about that!', 'server_error');
  }
}

interface HttpErrorLike {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  message?: string;
}

/**
 * OpenAI's error table for /v1/* (registered with ErrorDialects; used by HttpExceptionFilter and,
 * for errors inside a started stream, by ChatPipeline): our OpenAiError, pipeline failures
 * (openAiErrorOf), body-parser errors (malformed JSON 400, too large 413), unknown routes
 * (404 "Invalid URL"), and anything unexpected as 500 (logged with its stack).
 */
@Injectable()
export class OpenAiErrorDialect extends RegisteredErrorDialect {
  readonly name = 'openai';
  readonly mount = '/v1';
  private readonly logger = new Logger('OpenAiApi');

  answer(error: unknown, request: RequestContext): ErrorAnswer {
    const mapped = this.map(error, request);
    return { status: mapped.status, headers: mapped.headers, body: mapped.body(), kind: mapped.code ?? mapped.type };
  }

  /** The OpenAI error for anything thrown while serving a /v1 request. */
  private map(error: unknown, request: RequestContext): OpenAiError {
    if (error instanceof OpenAiError) return error;
    const failure = classifyChatFailure(error);
    if (failure) return openAiErrorOf(failure);
    const { req } = request;
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (status === 404) {
        return new OpenAiError(404, `Invalid URL (${req.method} ${(req.originalUrl ?? req.url).split('?')[0]})`, 'invalid_request_error');
      }
      if (status === 400 && /JSON/.test(error.message)) {
        return OpenAiError.invalidRequest(`We could not parse the JSON body of your request: ${error.message}`);
      }
      if (status < 500) return new OpenAiError(status, error.message, 'invalid_request_error');
    }
    const httpError = error as HttpErrorLike | null;
    const status = httpError?.status ?? httpError?.statusCode;
    if (httpError && httpError.expose && typeof status === 'number' && status >= 400 && status < 500) {
      if (httpError.type === 'entity.too.large') {
        return new OpenAiError(413, `The request body is too large (${httpError.message ?? 'limit exceeded'})`, 'invalid_request_error', 'request_too_large');
      }
      return new OpenAiError(status, httpError.message ?? 'invalid request', 'invalid_request_error');
    }
    this.logger.error(`request ${request.requestId} failed unexpectedly: ${(error as Error)?.message ?? String(error)}`, (error as Error)?.stack);
    return openAiErrorOf({ kind: 'unexpected', message: '', retryAfterSeconds: null, error });
  }
}
