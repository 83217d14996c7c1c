import { HttpException, HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ErrorAnswer, RegisteredErrorDialect } from '@qwen/http';
import { AdminError, AdminErrorBody } from './admin-error';

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
};

/**
 * The admin error table for /admin/*: every error in one shape, `{"error":{"message","code"}}`,
 * with the right status; 401 carries `WWW-Authenticate: Bearer realm="qwen-admin"`. Registered
 * with ErrorDialects, answered by the global HttpExceptionFilter.
 */
@Injectable()
export class AdminErrorDialect extends RegisteredErrorDialect {
  readonly name = 'admin';
  readonly mount = '/admin';
  private readonly logger = new Logger('AdminController');

  answer(exception: unknown): ErrorAnswer {
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let body: AdminErrorBody = { error: { message: 'internal error', code: 'internal_error' } };
    if (exception instanceof AdminError) {
      status = exception.getStatus();
      body = exception.getResponse() as AdminErrorBody;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      body = { error: { message: exception.message, code: CODES[status] ?? `http_${status}` } };
    } else {
      this.logger.error(`admin request failed: ${exception instanceof Error ? exception.message : String(exception)}`);
    }
    const headers: Record<string, string> = status === HttpStatus.UNAUTHORIZED ? { 'WWW-Authenticate': 'Bearer realm="qwen-admin"' } : {};
    return { status, headers, body, kind: body.error.code };
  }
}
