import { ExecutionContext } from '@nestjs/common';
import { AdminError } from './admin-error';
import { AdminGuard } from './admin.guard';
import type { AdminToken } from './admin-token';

function context(req: { headers?: Record<string, string>; remoteAddress?: string }): ExecutionContext {
  const request = { headers: req.headers ?? {}, socket: { remoteAddress: req.remoteAddress }, ip: req.remoteAddress };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function guard(token: string): AdminGuard {
  return new AdminGuard({ current: () => token } as unknown as AdminToken);
}

function statusOf(fn: () => unknown): number | 'allowed' {
  try {
    fn();
    return 'allowed';
  } catch (error) {
    return (error as AdminError).getStatus();
  }
}

describe(AdminGuard.name, () => {
  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.0.0.5'])('refuses a client at %s without the token (a loopback peer proves nothing)', (address) => {
    expect(statusOf(() => guard('tok-123').canActivate(context({ remoteAddress: address })))).toBe(401);
  });

  it('missing → 401, wrong → 403, right → allowed from anywhere', () => {
    const g = guard('tok-123');
    expect(statusOf(() => g.canActivate(context({ remoteAddress: '127.0.0.1' })))).toBe(401);
    expect(statusOf(() => g.canActivate(context({ remoteAddress: '127.0.0.1', headers: { authorization: 'Bearer tok-124' } })))).toBe(403);
    expect(statusOf(() => g.canActivate(context({ remoteAddress: '10.0.0.5', headers: { authorization: 'bearer tok-123' } })))).toBe('allowed');
  });
});
