import { HttpException, HttpStatus } from '@nestjs/common';

/** The body of every admin error: `{"error":{"message","code"}}`. */
export interface AdminErrorBody {
  error: { message: string; code: string };
}

/** An admin endpoint's refusal, with a stable machine-readable code. */
export class AdminError extends HttpException {
  constructor(status: HttpStatus, code: string, message: string) {
    super({ error: { message, code } } satisfies AdminErrorBody, status);
  }

  static unauthorized(message: string): AdminError {
    return new AdminError(HttpStatus.UNAUTHORIZED, 'unauthorized', message);
  }

  static forbidden(message: string): AdminError {
    return new AdminError(HttpStatus.FORBIDDEN, 'forbidden', message);
  }

  static badRequest(code: string, message: string): AdminError {
    return new AdminError(HttpStatus.BAD_REQUEST, code, message);
  }

  static conflict(code: string, message: string): AdminError {
    return new AdminError(HttpStatus.CONFLICT, code, message);
  }
}
