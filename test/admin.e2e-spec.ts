/**
 * POST /admin/* against the REAL service: the guard both ways, and a shutdown that stops the
 * runner and the tokenizer, closes the listener and exits 0 (through the ProcessExit seam).
 */
import { ProcessExit } from '@qwen/admin';
import { request as httpRequest } from 'node:http';
import { startTestService, TestService } from './support';

jest.setTimeout(90000);

interface AdminReply {
  status?: string;
  force?: boolean;
  modelState?: string;
  error: { code: string; message: string };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function post(service: TestService, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: AdminReply }> {
  const res = await fetch(`${service.url}${path}`, { method: 'POST', headers });
  return { status: res.status, body: (await res.json()) as AdminReply };
}

describe('admin endpoints with an admin token (emulator)', () => {
  let service: TestService;
  let exitCode: Promise<number>;

  beforeAll(async () => {
    service = await startTestService({ configure: (c) => (c.server.adminToken = 'e2e-admin-token') });
    exitCode = new Promise<number>((resolve) => {
      jest.spyOn(service.app.get(ProcessExit), 'exit').mockImplementation((code: number) => resolve(code));
    });
  });
  afterAll(async () => service?.close());

  it('answers 401 without the token and 403 with a wrong one, touching nothing', async () => {
    const missing = await post(service, '/admin/reload');
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    const wrong = await post(service, '/admin/shutdown', { Authorization: 'Bearer not-the-token' });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('forbidden');
    expect(service.model.snapshot()).toMatchObject({ state: 'ready', loads: 1 });
  });

  it('shuts down with the token: stops the runner and the tokenizer, closes the listener, exits 0', async () => {
    const runnerPid = service.model.snapshot().pid!;
    const tokenizerPid = service.tokenizer.snapshot().pid!;
    expect(alive(runnerPid)).toBe(true);
    expect(alive(tokenizerPid)).toBe(true);

    const res = await post(service, '/admin/shutdown', { Authorization: 'Bearer e2e-admin-token' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'shutting-down', force: false, modelState: 'ready' });

    expect(await exitCode).toBe(0);
    expect(service.model.snapshot().state).toBe('stopped');
    expect(service.tokenizer.snapshot().state).toBe('stopped');
    expect(alive(runnerPid)).toBe(false);
    expect(alive(tokenizerPid)).toBe(false);
    await expect(fetch(`${service.url}/health/live`)).rejects.toThrow();
  });
});

describe('admin endpoints without a configured admin token (emulator)', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(async () => service?.close());

  it('refuses a cross-site reload from a page on this host: 403 for its origin, 401 without the generated token, 404 in other letter case', async () => {
    const crossSite = await fetch(`${service.url}/admin/reload`, { method: 'POST', headers: { 'Content-Type': 'text/plain', Origin: 'https://evil.example' }, body: 'x' });
    expect(crossSite.status).toBe(403);
    // fetch() does not let a caller choose Host: node:http does (a rebinding page's Host is its own name).
    const rebound = await new Promise<number>((resolve, reject) =>
      httpRequest(`${service.url}/admin/reload`, { method: 'POST', headers: { Host: 'evil.example:8080' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end(),
    );
    expect(rebound).toBe(403);
    const loopback = await post(service, '/admin/reload', { 'X-Forwarded-For': '203.0.113.7' });
    expect(loopback.status).toBe(401);
    const shouting = await fetch(`${service.url}/ADMIN/reload`, { method: 'POST', headers: service.adminAuthorization() });
    expect(shouting.status).toBe(404);
    expect(service.model.snapshot().loads).toBe(1);
  });

  it('accepts the token generated in the run directory: reload answers 202 at once and the model loads again', async () => {
    const res = await post(service, '/admin/reload?force=true', service.adminAuthorization());
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'reloading', force: true, modelState: 'ready' });
    await service.waitForModel((s) => s.state === 'ready' && s.loads === 2, 'the reloaded model');
    const second = await post(service, '/admin/reload?force=nope', service.adminAuthorization());
    expect(second.status).toBe(400);
    expect(second.body.error.code).toBe('invalid_parameter');
  });
});
