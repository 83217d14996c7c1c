import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { bearerToken, SecretSet } from '@qwen/http';
import type { Request } from 'express';
import { AdminError } from './admin-error';
import { AdminToken } from './admin-token';

/**
 * Every admin request must carry the admin token (AdminToken: the configured one, else the one
 * generated in the run directory) as `Authorization: Bearer <token>` — missing → 401, wrong → 403
 * (compared in constant time), wherever the client is: a loopback peer proves nothing, since a
 * browser on this host is loopback too.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly token: AdminToken) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const presented = bearerToken(req.headers.authorization);
    if (presented === null) {
      throw AdminError.unauthorized('an admin token is required: send "Authorization: Bearer <token>" (server.adminToken, or the file admin-token in the run directory)');
    }
    if (!new SecretSet([this.token.current()]).has(presented)) throw AdminError.forbidden('the admin token is not valid');
    return true;
  }
}
