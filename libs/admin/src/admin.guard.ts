import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ConfigStore } from '@qwen/config';
import { bearerToken, SecretSet } from '@qwen/http';
import type { Request } from 'express';
import { AdminError } from './admin-error';

/**
 * - An admin token is configured (server.adminToken / QWEN_ADMIN_TOKEN): it must come as
 *   `Authorization: Bearer <token>` — missing → 401, wrong → 403 (compared in constant time).
 * - None configured: only loopback clients (127.0.0.0/8, ::1, ::ffff:127.x) are accepted. Both the
 *   socket's peer and the client Express derives (a loopback proxy's X-Forwarded-For) must be
 *   loopback, so a reverse proxy on the same host does not open the endpoints to everyone.
 * The token is read at each request: POST /admin/reload applies a changed token.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly config: ConfigStore) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const token = this.config.current().server.adminToken;
    if (token) {
      const presented = bearerToken(req.headers.authorization);
      if (presented === null) throw AdminError.unauthorized('an admin token is required: send "Authorization: Bearer <token>"');
      if (!new SecretSet([token]).has(presented)) throw AdminError.forbidden('the admin token is not valid');
      return true;
    }
    if (!isLoopback(req.socket?.remoteAddress) || !isLoopback(req.ip ?? req.socket?.remoteAddress)) {
      throw AdminError.forbidden('admin endpoints accept only loopback clients when no admin token is configured (server.adminToken)');
    }
    return true;
  }
}

/** True for 127.0.0.0/8, ::1 and ::ffff:127.x. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
