import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ModelService } from '@qwen/model';
import type { ModelSnapshot } from '@qwen/model';
import { modelSnapshot, tokenizerSnapshot } from '../../../test/doubles/health';
import { TokenizerSupervisor } from '@qwen/tokenizer';
import type { TokenizerSnapshot } from '@qwen/tokenizer';
import { join } from 'node:path';
import request from 'supertest';
import { HealthController } from './health.controller';
import { HealthModule } from './health.module';
import { HealthModuleOptions } from './health.options';
import { NpuStatusService } from './npu/npu-status.service';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'axcl-smi');

describe(HealthController.name, () => {
  let app: INestApplication;
  const model = { current: modelSnapshot(), snapshot: () => model.current };
  const tokenizer = { current: tokenizerSnapshot(), snapshot: () => tokenizer.current };

  async function start(options: Partial<HealthModuleOptions> = {}): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        {
          module: class FakeDependencies {},
          global: true,
          providers: [
            { provide: ModelService, useValue: model },
            { provide: TokenizerSupervisor, useValue: tokenizer },
          ],
          exports: [ModelService, TokenizerSupervisor],
        },
        HealthModule.register({ npu: { smiPath: '/nonexistent/axcl-smi', timeoutMs: 300, cacheMs: 0 }, version: '9.9.9', ...options }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  }

  afterEach(async () => {
    await app?.close();
    model.current = modelSnapshot();
    tokenizer.current = tokenizerSnapshot();
  });

  describe('with the card tool absent', () => {
    beforeEach(() => start());

    it('is ok and ready when both dependencies are ready, with every detail', async () => {
      const res = await request(app.getHttpServer()).get('/health').expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toMatchObject({
        status: 'ok',
        reasons: [],
        details: {
          tokenizer: { status: 'ok', ready: true, state: 'ready', pid: 4141, mode: 'builtin', restarts: 0, lastError: null },
          model: {
            status: 'ok',
            ready: true,
            state: 'ready',
            pid: 4242,
            restarts: 0,
            maxTokenLen: 1024,
            sampling: { temperature: 0.9, top_k: 10 },
            lastTokensPerSecond: 13.28,
            lastError: null,
          },
          queue: { length: 0, limit: 16, inFlight: 0 },
          npu: { status: 'ok', state: 'unknown', cardPresent: null },
          service: { version: '9.9.9' },
        },
      });
      expect(res.body.details.model.uptimeSeconds).toBeGreaterThanOrEqual(64);
      expect(res.body.details.model).not.toHaveProperty('outputTail');
      expect(typeof res.body.details.service.uptimeSeconds).toBe('number');
      const ready = await request(app.getHttpServer()).get('/health/ready').expect(200);
      expect(ready.body).toMatchObject({ status: 'ok', info: { tokenizer: { status: 'up' }, model: { status: 'up', state: 'ready' } } });
    });

    it('shows the oldest wait, the estimated wait and the phase and progress of the turn on the runner', async () => {
      const turn = { phase: 'prefill' as const, promptTokens: 700, fedEstimate: 280, generatedTokens: 0, maxTokens: 324, elapsedMs: 20_000 };
      model.current = modelSnapshot({ state: 'busy', queue: { length: 2, limit: 16, inFlight: 1 }, oldestWaitMs: 4500, estimatedWaitMs: 61_000, turn });
      const res = await request(app.getHttpServer()).get('/health').expect(200);
      expect(res.body.details.queue).toEqual({ length: 2, limit: 16, inFlight: 1 });
      expect(res.body.details.waiting).toEqual({ oldestWaitMs: 4500, estimatedWaitMs: 61_000 });
      expect(res.body.details.turn).toEqual(turn);
    });

    type Row = [string, Partial<ModelSnapshot>, Partial<TokenizerSnapshot>, 'ok' | 'degraded' | 'down', number, RegExp | null];
    const rows: Row[] = [
      ['busy with room in the queue', { state: 'busy', queue: { length: 3, limit: 16, inFlight: 1 } }, {}, 'ok', 200, null],
      ['busy with a full queue', { state: 'busy', queue: { length: 16, limit: 16, inFlight: 1 } }, {}, 'degraded', 200, /queue is full/],
      ['loading for the first time', { state: 'loading', progress: { step: 7, total: 31, text: 'init 4 axmodel ok' } }, {}, 'degraded', 503, /first time.*step 7\/31/],
      ['waiting for the tokenizer at start-up', { state: 'waiting-for-tokenizer', pid: null }, { state: 'starting' }, 'degraded', 503, /waiting for the tokenizer/],
      ['loading again after a crash', { state: 'loading', loads: 2, restarts: 1 }, {}, 'degraded', 503, /loading again/],
      ['restarting the runner', { state: 'restarting', pid: null, restarts: 1, lastError: 'the runner exited with signal 9' }, {}, 'degraded', 503, /restarting after: the runner exited with signal 9/],
      ['restarting the tokenizer', { state: 'ready' }, { state: 'restarting', lastError: 'exit 1' }, 'degraded', 503, /tokenizer is restarting/],
      ['a failed runner', { state: 'failed', pid: null, lastError: '3 failed starts', outputTail: ['[E] init fail'] }, {}, 'down', 503, /model failed: 3 failed starts.*admin\/reload/],
      ['a dead device', { state: 'restarting', deviceDead: true, lastError: 'the NPU device is dead: device 1 is dead' }, {}, 'down', 503, /device 1 is dead; only a reboot/],
      ['a failed tokenizer', { state: 'ready' }, { state: 'failed', lastError: 'cannot bind 12345' }, 'down', 503, /tokenizer failed: cannot bind 12345/],
      ['a stopped service', { state: 'stopped', pid: null }, { state: 'stopped', pid: null }, 'down', 503, /model is stopped/],
    ];
    it.each<Row>(rows.map(([what, m, t, status, readyCode, reason]): Row => [`${what} to ${status}, readiness ${readyCode}`, m, t, status, readyCode, reason]))(
      'maps %s',
      async (_what, m, t, status, readyCode, reason) => {
      model.current = modelSnapshot(m);
      tokenizer.current = tokenizerSnapshot(t);
      const res = await request(app.getHttpServer())
        .get('/health')
        .expect(status === 'down' ? 503 : 200);
      expect(res.body.status).toBe(status);
      if (reason) expect(res.body.reasons.join(' | ')).toMatch(reason);
      else expect(res.body.reasons).toEqual([]);
      await request(app.getHttpServer()).get('/health/ready').expect(readyCode);
      // Liveness never depends on the dependencies.
      const live = await request(app.getHttpServer()).get('/health/live').expect(200);
      expect(live.body).toMatchObject({ status: 'ok', info: { process: { status: 'up', pid: process.pid } } });
      },
    );

    it('shows no pids, ports, paths or error texts to a client that is not a local scrape (proxied, or a web page)', async () => {
      model.current = modelSnapshot({
        state: 'failed',
        pid: 4242,
        lastError: 'cannot start main_axcl_x86 in /home/qwen/models/Qwen2.5: spawn /home/qwen/models/Qwen2.5/main_axcl_x86 ENOENT (pid 4242)',
        outputTail: ['[E][ Init][ 120]: open model failed'],
        maxTokenLen: 1024,
        sampling: { temperature: 0.9 },
      });
      tokenizer.current = tokenizerSnapshot({ state: 'restarting', pid: 4141, port: 12345, lastError: 'listen EADDRINUSE: address already in use 127.0.0.1:12345' });
      for (const header of [{ 'X-Forwarded-For': '203.0.113.9' }, { Origin: 'http://localhost:3000' }]) {
        const res = await request(app.getHttpServer()).get('/health').set(header).expect(503);
        const text = JSON.stringify(res.body);
        for (const secret of ['4242', '4141', '12345', '/home/qwen', 'outputTail', 'lastError']) expect(text).not.toContain(secret);
        expect(res.body.status).toBe('down');
        expect(res.body.reasons.join(' | ')).toMatch(/model failed: cannot start main_axcl_x86 in Qwen2\.5: spawn main_axcl_x86 ENOENT \(pid …\).*POST \/admin\/reload/);
        expect(res.body.reasons.join(' | ')).toMatch(/127\.0\.0\.1:…/);
        // What the chat page reads stays visible.
        expect(res.body.details.model).toMatchObject({ state: 'failed', reason: expect.any(String), maxTokenLen: 1024, sampling: { temperature: 0.9 } });
        expect(res.body.details.model).toHaveProperty('progress');
        expect(res.body.details.queue).toMatchObject({ length: 0 });
        const live = await request(app.getHttpServer()).get('/health/live').set(header).expect(200);
        expect(live.body.info.process).not.toHaveProperty('pid');
        const ready = await request(app.getHttpServer()).get('/health/ready').set(header).expect(503);
        expect(JSON.stringify(ready.body)).not.toMatch(/4242|4141|12345|\/home\/qwen/);
      }
      // A local scrape sees it all.
      const local = await request(app.getHttpServer()).get('/health').expect(503);
      expect(local.body.details.tokenizer).toMatchObject({ pid: 4141, port: 12345 });
      expect(local.body.details.model.lastError).toContain('/home/qwen/models');
    });

    it('shows the runner output tail and load progress only when they matter', async () => {
      model.current = modelSnapshot({
        state: 'failed',
        outputTail: [
          'a private answer the model was printing',
          '[I][                            Init][ 111]: LLM init start',
          '[2025-11-09 08:46:00.029][10994][W][device manager][listen][292]: device 1 is dead',
          '"temperature": 0.9,',
          '[E][                            Init][ 120]: open model failed',
        ],
      });
      const failed = await request(app.getHttpServer()).get('/health').expect(503);
      // Only the runner's own messages: model text (answers to users) stays in model.log.
      expect(failed.body.details.model.outputTail).toEqual([
        '[I][                            Init][ 111]: LLM init start',
        '[2025-11-09 08:46:00.029][10994][W][device manager][listen][292]: device 1 is dead',
        '[E][                            Init][ 120]: open model failed',
      ]);
      expect(failed.body.details.model.outputTailHidden).toBe(2);
      const ready = await request(app.getHttpServer()).get('/health/ready').expect(503);
      expect(ready.body).toMatchObject({ status: 'error', error: { model: { status: 'down', state: 'failed' } }, info: { tokenizer: { status: 'up' } } });

      model.current = modelSnapshot({ state: 'loading', progress: { step: 3, total: 31, text: 'init 0 axmodel ok' } });
      const loading = await request(app.getHttpServer()).get('/health').expect(200);
      expect(loading.body.details.model.progress).toEqual({ step: 3, total: 31, text: 'init 0 axmodel ok' });
      expect(loading.body.details.model).not.toHaveProperty('outputTail');
    });
  });

  describe('with the card tool present', () => {
    it('reports the card', async () => {
      await start({ npu: { smiPath: join(FIXTURES, 'axcl-smi-ok.sh'), timeoutMs: 2000, cacheMs: 0 } });
      const res = await request(app.getHttpServer()).get('/health').expect(200);
      expect(res.body.status).toBe('ok');
      expect(res.body.details.npu).toMatchObject({ status: 'ok', state: 'ok', cardPresent: true, cards: [{ name: 'AX8850', temperatureC: 61 }] });
      expect(res.body.details.npu.summary).toContain('AXCL-SMI');
    });

    it('is degraded, not down, when the tool hangs, and answers within the deadline', async () => {
      await start({ npu: { smiPath: join(FIXTURES, 'axcl-smi-hang.sh'), timeoutMs: 300, cacheMs: 0 } });
      const started = Date.now();
      const res = await request(app.getHttpServer()).get('/health').expect(200);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(res.body.status).toBe('degraded');
      expect(res.body.details.npu).toMatchObject({ status: 'degraded', state: 'timeout' });
      await request(app.getHttpServer()).get('/health/ready').expect(200);
    });

    it('gives the NPU indicator its own deadline', async () => {
      await start({ npu: { smiPath: join(FIXTURES, 'axcl-smi-hang.sh'), timeoutMs: 1500, cacheMs: 0 }, indicatorTimeouts: { npu: 200 } });
      const started = Date.now();
      const res = await request(app.getHttpServer()).get('/health').expect(200);
      expect(Date.now() - started).toBeLessThan(1200);
      expect(res.body.details.npu).toMatchObject({ status: 'degraded', reason: 'no answer within 200 ms' });
      // The tool itself is still killed at its own deadline.
      await expect(app.get(NpuStatusService).status()).resolves.toMatchObject({ state: 'timeout' });
    });
  });
});
