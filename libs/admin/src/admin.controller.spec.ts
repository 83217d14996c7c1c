import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { AppConfig, ConfigError, ConfigStore, findInstallRoot, loadAppConfig } from '@qwen/config';
import { ModelModuleOptions, ModelService } from '@qwen/model';
import { TokenizerSupervisor } from '@qwen/tokenizer';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AdminController } from './admin.controller';
import { AdminModule } from './admin.module';
import { ADMIN_TOKEN_FILE } from './admin-token';
import { ApplicationCloser } from './application-closer';
import { ProcessExit } from './process-exit';

const runDir = join(mkdtempSync(join(tmpdir(), 'qwen-admin-')), 'run');
afterAll(() => rmSync(join(runDir, '..'), { recursive: true, force: true }));

function baseConfig(): AppConfig {
  const root = findInstallRoot(__dirname);
  return loadAppConfig({ env: { QWEN_RUN_DIR: runDir }, cwd: root, defaultsFile: join(root, 'config', 'default.yaml') });
}

/** ConfigStore whose next reload() returns `next` or throws it. */
class FakeConfigStore {
  next: AppConfig | Error;
  constructor(public config: AppConfig) {
    this.next = config;
  }
  current(): AppConfig {
    return this.config;
  }
  reload(): AppConfig {
    if (this.next instanceof Error) throw this.next;
    this.config = this.next;
    return this.config;
  }
}

describe(AdminController.name, () => {
  let app: NestExpressApplication;
  let config: FakeConfigStore;
  const calls: string[] = [];
  let releaseReload: (() => void) | null = null;
  const model = {
    snapshot: () => ({ state: 'ready' }),
    reload: jest.fn(async (opts: { force?: boolean; options?: ModelModuleOptions; beforeStart?: () => Promise<void> }) => {
      calls.push(`model.reload force=${opts.force}`);
      await new Promise<void>((resolve) => (releaseReload = resolve));
      await opts.beforeStart?.();
      calls.push('model.start');
    }),
    shutdown: jest.fn(async (opts: { force?: boolean }) => void calls.push(`model.shutdown force=${opts.force}`)),
  };
  const tokenizer = {
    restart: jest.fn(async (reason: string) => void calls.push(`tokenizer.restart ${reason}`)),
    stop: jest.fn(async () => void calls.push('tokenizer.stop')),
  };
  const startupOptions = { runnerEnv: { QWEN_EMU_LOAD_MS: '0' } } as unknown as ModelModuleOptions;

  let exited: () => void;
  let whenExited: Promise<void>;

  async function start(adminToken = ''): Promise<void> {
    whenExited = new Promise<void>((resolve) => (exited = resolve));
    const initial = baseConfig();
    initial.server.adminToken = adminToken;
    config = new FakeConfigStore(initial);
    const moduleRef = await Test.createTestingModule({
      imports: [
        {
          module: class FakeDependencies {},
          global: true,
          providers: [
            { provide: ConfigStore, useValue: config },
            { provide: ModelService, useValue: model },
            { provide: TokenizerSupervisor, useValue: tokenizer },
          ],
          exports: [ConfigStore, ModelService, TokenizerSupervisor],
        },
        AdminModule.register({
          // What apps/qwen-chat's moduleOptionsOf builds (its own spec checks it), with the emulator's env.
          reloadOptions: (c) => ({
            model: { ...startupOptions, model: c.model, paths: c.paths, tokenizer: { host: c.tokenizer.host, port: c.tokenizer.port } },
            tokenizer: { tokenizer: c.tokenizer, paths: c.paths },
          }),
        }),
      ],
    })
      .overrideProvider(ProcessExit)
      .useValue({
        exit: jest.fn((code: number) => {
          calls.push(`exit ${code}`);
          exited();
        }),
      })
      .compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
    app.set('trust proxy', 'loopback');
    await app.init();
  }

  beforeEach(() => {
    calls.length = 0;
    releaseReload = null;
    jest.clearAllMocks();
  });
  afterEach(async () => {
    releaseReload?.();
    await app?.close();
  });

  describe('without a configured admin token (a generated one, in the run directory)', () => {
    beforeEach(() => start());
    const tokenFile = join(runDir, ADMIN_TOKEN_FILE);
    const post = (path: string) =>
      request(app.getHttpServer())
        .post(path)
        .set('Authorization', `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`);

    it('generates the token at start, readable by the owner only, in a 0700 directory', () => {
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect(statSync(runDir).mode & 0o777).toBe(0o700);
      expect(readFileSync(tokenFile, 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('refuses a loopback client without the token: a cross-site page on this host cannot reload', async () => {
      const res = await request(app.getHttpServer())
        .post('/admin/reload')
        .set('Content-Type', 'text/plain')
        .set('Origin', 'https://evil.example')
        .send('x')
        .expect(401);
      expect(res.body.error.code).toBe('unauthorized');
      await request(app.getHttpServer()).post('/admin/shutdown').set('Authorization', 'Bearer guessed').expect(403);
      expect(model.reload).not.toHaveBeenCalled();
      expect(model.shutdown).not.toHaveBeenCalled();
    });

    it('accepts the generated token, and keeps it across starts', async () => {
      const first = readFileSync(tokenFile, 'utf8');
      await app.close();
      await start();
      expect(readFileSync(tokenFile, 'utf8')).toBe(first);
      await post('/admin/reload').expect(202);
    });

    it('reloads: re-reads the configuration, answers 202 at once, restarts the tokenizer between stop and start', async () => {
      const next = baseConfig();
      next.model.queueMaxLength = 3;
      next.tokenizer.port = 23456;
      config.next = next;
      const res = await post('/admin/reload').expect(202);
      expect(res.body).toMatchObject({ status: 'reloading', force: false, modelState: 'ready' });
      expect(res.body.steps).toContain('let the request in flight finish');
      // The answer came while the model reload is still waiting.
      expect(calls).toEqual(['model.reload force=false']);
      const options = model.reload.mock.calls[0][0].options!;
      expect(options.model.queueMaxLength).toBe(3);
      expect(options.tokenizer).toEqual({ host: '127.0.0.1', port: 23456 });
      expect(options.runnerEnv).toEqual({ QWEN_EMU_LOAD_MS: '0' });
      releaseReload!();
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls).toEqual(['model.reload force=false', 'tokenizer.restart admin reload', 'model.start']);
      expect(tokenizer.restart).toHaveBeenCalledWith('admin reload', { tokenizer: next.tokenizer, paths: next.paths });
    });

    it('passes force and refuses a second reload while one runs', async () => {
      const res = await post('/admin/reload?force=true').expect(202);
      expect(res.body.force).toBe(true);
      expect(model.reload.mock.calls[0][0].force).toBe(true);
      const again = await post('/admin/reload').expect(409);
      expect(again.body.error.code).toBe('reload_in_progress');
    });

    it('answers 400 with the message and restarts nothing when the new configuration is invalid', async () => {
      config.next = new ConfigError('invalid configuration:\n  - model.queueMaxLength: must not be less than 0');
      const res = await post('/admin/reload').expect(400);
      expect(res.body).toEqual({ error: { code: 'invalid_config', message: expect.stringContaining('model.queueMaxLength') } });
      expect(model.reload).not.toHaveBeenCalled();
      expect(tokenizer.restart).not.toHaveBeenCalled();
    });

    it('rejects a malformed force parameter', async () => {
      const res = await post('/admin/reload?force=maybe').expect(400);
      expect(res.body.error.code).toBe('invalid_parameter');
    });

    it('shuts down in order: model (force), tokenizer, application, exit 0', async () => {
      const closer = app.get(ApplicationCloser);
      closer.attach(async () => void calls.push('app.close'));
      const res = await post('/admin/shutdown?force=1').expect(202);
      expect(res.body).toMatchObject({ status: 'shutting-down', force: true });
      await whenExited;
      expect(calls).toEqual(['model.shutdown force=true', 'tokenizer.stop', 'app.close', 'exit 0']);
      const reload = await post('/admin/reload').expect(409);
      expect(reload.body.error.code).toBe('shutting_down');
    });
  });

  describe('with an admin token', () => {
    beforeEach(() => start('s3cret-token'));

    it('answers 401 without a token', async () => {
      const res = await request(app.getHttpServer()).post('/admin/reload').expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="qwen-admin"');
      expect(res.body.error.code).toBe('unauthorized');
    });

    it('answers 403 with a wrong token', async () => {
      for (const header of ['Bearer wrong', 'Bearer s3cret-token-longer', 'Bearer s3cret-toke']) {
        const res = await request(app.getHttpServer()).post('/admin/reload').set('Authorization', header).expect(403);
        expect(res.body.error).toEqual({ code: 'forbidden', message: 'the admin token is not valid' });
      }
      await request(app.getHttpServer()).post('/admin/reload').set('Authorization', 'Basic czNjcmV0LXRva2Vu').expect(401);
      expect(model.reload).not.toHaveBeenCalled();
    });

    it('accepts the right token, even from a forwarded non-loopback client', async () => {
      await request(app.getHttpServer())
        .post('/admin/reload')
        .set('Authorization', 'Bearer s3cret-token')
        .set('X-Forwarded-For', '203.0.113.7')
        .expect(202);
      expect(model.reload).toHaveBeenCalledTimes(1);
    });
  });
});

