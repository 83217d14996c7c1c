/**
 * GET /health, /health/live, /health/ready against the REAL service (tokenizer server process and
 * runner emulator under a pty): first load, a killed runner, repeated init failures, and an
 * operator reload that leaves the failed state.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTestService, TestService } from './support';

jest.setTimeout(90000);

interface Probe {
  status: number;
  body: {
    status: string;
    reasons: string[];
    details: { model: Record<string, unknown> & { state: string; outputTail?: string[] }; tokenizer: Record<string, unknown>; queue: unknown; npu: Record<string, unknown>; service: Record<string, unknown> };
  };
}

/** A Terminus answer (GET /health/live, /health/ready). */
interface TerminusProbe {
  status: number;
  body: { status: string; info?: Record<string, Record<string, unknown>>; error?: Record<string, Record<string, unknown>> };
}

async function get(service: TestService, path: string): Promise<TerminusProbe> {
  const res = await fetch(`${service.url}${path}`);
  return { status: res.status, body: (await res.json()) as TerminusProbe['body'] };
}

async function health(service: TestService): Promise<Probe> {
  const res = await fetch(`${service.url}/health`);
  return { status: res.status, body: (await res.json()) as Probe['body'] };
}

describe('GET /health through a model life cycle (emulator)', () => {
  let service: TestService;

  beforeAll(async () => {
    // A 1.5 s load: long enough to look at the service while it loads.
    service = await startTestService({ waitReady: false, emulatorEnv: { QWEN_EMU_LOAD_MS: '1500' } });
  });
  afterAll(async () => service?.close());

  it('is degraded (200) while the model loads for the first time, and not ready (503)', async () => {
    await service.waitForModel((s) => s.state === 'loading' && s.progress !== null, 'the first load to show progress');
    const during = await health(service);
    expect(during.status).toBe(200);
    expect(during.body.status).toBe('degraded');
    expect(during.body.details.model.state).toBe('loading');
    expect(during.body.details.model.progress).toMatchObject({ total: 31 });
    expect(during.body.reasons.join(' ')).toMatch(/loading for the first time/);
    const ready = await get(service, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'error', error: { model: { status: 'down', state: 'loading' } } });
    const live = await get(service, '/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ status: 'ok', info: { process: { status: 'up' } } });
  });

  it('is ok and ready once the model is loaded, with the runner facts', async () => {
    await service.waitForModel((s) => s.state === 'ready', 'the model to be ready');
    const probe = await health(service);
    expect(probe.status).toBe(200);
    expect(probe.body.status).toBe('ok');
    expect(probe.body.reasons).toEqual([]);
    expect(probe.body.details.model).toMatchObject({ state: 'ready', pid: service.model.snapshot().pid, maxTokenLen: 1024, restarts: 0, loads: 1, lastError: null });
    expect(probe.body.details.model.sampling).toMatchObject({ temperature: 0.9, top_k: 10 });
    expect(probe.body.details.tokenizer).toMatchObject({ status: 'ok', state: 'ready', pid: service.tokenizer.snapshot().pid, mode: 'builtin' });
    expect(probe.body.details.queue).toEqual({ length: 0, limit: service.config.model.queueMaxLength, inFlight: 0 });
    // No axcl-smi on this machine: unknown, which is not a problem.
    expect(probe.body.details.npu).toMatchObject({ status: 'ok', state: 'unknown', cardPresent: null });
    expect(probe.body.details.service).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect((await get(service, '/health/ready')).status).toBe(200);
  });

  it('is degraded while a killed runner restarts, then ok again', async () => {
    const pid = service.model.snapshot().pid!;
    process.kill(pid, 'SIGKILL');
    await service.waitForModel((s) => s.restarts === 1 && s.state !== 'ready', 'the restart to begin');
    const during = await health(service);
    expect(during.status).toBe(200);
    expect(during.body.status).toBe('degraded');
    expect(['restarting', 'waiting-for-tokenizer', 'loading']).toContain(during.body.details.model.state);
    expect(during.body.details.model.lastError).toMatch(/signal 9|SIGKILL/);
    expect((await get(service, '/health/ready')).status).toBe(503);

    await service.waitForModel((s) => s.state === 'ready', 'the restarted runner');
    const after = await health(service);
    expect(after.body.status).toBe('ok');
    expect(after.body.details.model).toMatchObject({ state: 'ready', restarts: 1, loads: 2 });
    expect(after.body.details.model.pid).not.toBe(pid);
    expect((await get(service, '/health/ready')).status).toBe(200);
  });
});

describe('GET /health when the runner cannot start (emulator)', () => {
  it('is down (503) with the runner last lines after repeated init failures', async () => {
    const service = await startTestService({
      waitReady: false,
      emulatorEnv: { QWEN_EMU_FAIL_INIT: '1' },
      configure: (c) => (c.model.maxConsecutiveFailures = 2),
    });
    try {
      await service.waitForModel((s) => s.state === 'failed', 'the failed state');
      const probe = await health(service);
      expect(probe.status).toBe(503);
      expect(probe.body.status).toBe('down');
      expect(probe.body.details.model.state).toBe('failed');
      expect(probe.body.details.model.consecutiveFailures).toBe(2);
      expect(probe.body.details.model.outputTail!.some((line) => line.includes('[E]'))).toBe(true);
      expect(probe.body.reasons[0]).toMatch(/the model failed: .*POST \/admin\/reload/);
      expect((await get(service, '/health/ready')).status).toBe(503);
      expect((await get(service, '/health/live')).status).toBe(200);
    } finally {
      await service.close();
    }
  });

  it('leaves the failed state after the operator fixes the configuration and POSTs /admin/reload', async () => {
    const service = await startTestService({
      waitReady: false,
      configure: (c) => {
        // A misconfigured runner binary (not in the model directory); the files say "auto".
        const wrong = process.arch === 'arm64' ? 'main_axcl_x86' : 'main_axcl_aarch64';
        rmSync(join(c.paths.modelDir, wrong));
        c.model.runnerBinary = wrong;
        c.model.maxConsecutiveFailures = 2;
      },
    });
    try {
      await service.waitForModel((s) => s.state === 'failed', 'the failed state');
      const failed = await health(service);
      expect(failed.status).toBe(503);
      expect(failed.body.details.model.lastError).toMatch(/cannot start main_axcl_\w+ in .*ENOENT/);
      expect(failed.body.reasons[0]).toMatch(/cannot start main_axcl_/);

      const reload = await fetch(`${service.url}/admin/reload`, { method: 'POST', headers: service.adminAuthorization() });
      expect(reload.status).toBe(202);
      expect(await reload.json()).toMatchObject({ status: 'reloading', force: false, modelState: 'failed' });

      await service.waitForModel((s) => s.state === 'ready', 'the reloaded model', 30000);
      const ok = await health(service);
      expect(ok.status).toBe(200);
      expect(ok.body.status).toBe('ok');
      expect(ok.body.details.model).toMatchObject({ state: 'ready', lastError: null, consecutiveFailures: 0 });
      expect(ok.body.details.tokenizer).toMatchObject({ state: 'ready', restarts: 1 });
      expect((await get(service, '/health/ready')).status).toBe(200);
    } finally {
      await service.close();
    }
  });
});
