import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { AdminError, AdminErrorBody } from './admin-error';

const CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
};

/** Every error of /admin/* in one shape: `{"error":{"message","code"}}`, with the right status. */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('AdminController');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
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
    if (status === HttpStatus.UNAUTHORIZED) res.setHeader('WWW-Authenticate', 'Bearer realm="qwen-admin"');
    if (!res.headersSent) res.status(status).json(body);
  }
}
