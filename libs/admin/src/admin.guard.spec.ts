import { ExecutionContext } from '@nestjs/common';
import type { ConfigStore } from '@qwen/config';
import { AdminError } from './admin-error';
import { AdminGuard, isLoopback } from './admin.guard';

function context(req: { headers?: Record<string, string>; remoteAddress?: string; ip?: string }): ExecutionContext {
  const request = { headers: req.headers ?? {}, socket: { remoteAddress: req.remoteAddress }, ip: req.ip ?? req.remoteAddress };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function guard(adminToken: string): AdminGuard {
  return new AdminGuard({ current: () => ({ server: { adminToken } }) } as unknown as ConfigStore);
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
  it.each([
    ['127.0.0.1', 'allowed'],
    ['127.8.9.10', 'allowed'],
    ['::1', 'allowed'],
    ['::ffff:127.0.0.1', 'allowed'],
    ['10.0.0.5', 403],
    ['192.168.1.20', 403],
    ['::ffff:192.168.1.20', 403],
    ['fe80::1', 403],
    ['128.0.0.1', 403],
    [undefined, 403],
  ])('without a token, a client at %s is %s', (address, expected) => {
    expect(statusOf(() => guard('').canActivate(context({ remoteAddress: address })))).toBe(expected);
  });

  it('without a token, refuses a non-loopback client forwarded by a loopback proxy', () => {
    expect(statusOf(() => guard('').canActivate(context({ remoteAddress: '127.0.0.1', ip: '198.51.100.4' })))).toBe(403);
  });

  it('with a token: missing → 401, wrong → 403, right → allowed from anywhere', () => {
    const g = guard('tok-123');
    expect(statusOf(() => g.canActivate(context({ remoteAddress: '127.0.0.1' })))).toBe(401);
    expect(statusOf(() => g.canActivate(context({ remoteAddress: '127.0.0.1', headers: { authorization: 'Bearer tok-124' } })))).toBe(403);
    expect(statusOf(() => g.canActivate(context({ remoteAddress: '10.0.0.5', headers: { authorization: 'bearer tok-123' } })))).toBe('allowed');
  });

  it('knows a loopback address', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
  });
});
