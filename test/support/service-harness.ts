import type { LogLevel } from '@nestjs/common';
import { ADMIN_TOKEN_FILE } from '@qwen/admin';
import { AppConfig, ConfigSources, findInstallRoot, loadAppConfig } from '@qwen/config';
import { ModelService, ModelSnapshot } from '@qwen/model';
import { TokenizerSupervisor } from '@qwen/tokenizer';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startQwenApp, QwenApp } from '../../apps/qwen-chat/src/app.factory';
import { createEmulatedModelDir } from '../../scripts/make-emulated-model';
import { freePort } from './free-port';
import { firstMatching } from './wait-until';

export interface TestServiceOptions {
  /** QWEN_EMU_* settings for the runner emulator (defaults: instant load, fast tokens). */
  emulatorEnv?: Record<string, string>;
  /** Adjust the validated configuration before the service starts. */
  configure?: (config: AppConfig) => void;
  /** Build the model directory without post_config.json. */
  withoutPostConfig?: boolean;
  /** Wait until the model is ready before returning (default true). */
  waitReady?: boolean;
  /** Nest log levels (default: errors only, to keep test output readable). */
  logger?: LogLevel[] | false;
}

export interface TestService {
  url: string;
  ollamaUrl: string | null;
  app: QwenApp['app'];
  config: AppConfig;
  root: string;
  modelDir: string;
  logDir: string;
  runDir: string;
  /** Write JSON here to inject a one-off fault into the running emulator (QWEN_EMU_FAULT_FILE). */
  faultFile: string;
  /** One line per emulator start (QWEN_EMU_START_LOG): counts model loads independently of the service. */
  startLog: string;
  model: ModelService;
  tokenizer: TokenizerSupervisor;
  /** `Authorization` for the admin API: the configured token, else the one the service generated in runDir. */
  adminAuthorization(): { Authorization: string };
  /** Resolves with the first model snapshot matching `predicate`. */
  waitForModel(predicate: (s: ModelSnapshot) => boolean, what: string, ms?: number): Promise<ModelSnapshot>;
  close(): Promise<void>;
}

/**
 * Starts the REAL service (HTTP API, tokenizer server process, runner emulator under node-pty)
 * in a fresh temporary directory laid out like the upstream model repository.
 * Requires `npm run build` (the tokenizer server and the emulator run from dist/).
 */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const root = mkdtempSync(join(tmpdir(), 'qwen-e2e-'));
  const modelDir = join(root, 'model');
  await createEmulatedModelDir({ target: modelDir, postConfig: !options.withoutPostConfig });
  const faultFile = join(root, 'emulator-fault.json');
  const startLog = join(root, 'emulator-starts.log');
  const installRoot = findInstallRoot(__dirname);
  const sources: ConfigSources = {
    env: {
      QWEN_MODEL_DIR: modelDir,
      QWEN_LOG_DIR: join(root, 'logs'),
      QWEN_RUN_DIR: join(root, 'run'),
      QWEN_TOKENIZER_PORT: String(await freePort()),
    },
    cwd: root,
    defaultsFile: join(installRoot, 'config', 'default.yaml'),
  };
  const config = loadAppConfig(sources);
  config.server.port = 0; // an ephemeral port (validation requires >= 1 from operators)
  config.model.restartInitialDelayMs = 50;
  config.model.restartMaxDelayMs = 400;
  config.model.stopGraceMs = 2000;
  config.tokenizer.restartInitialDelayMs = 50;
  options.configure?.(config);

  const runnerEnv: Record<string, string> = {
    QWEN_EMU_LOAD_MS: '0',
    QWEN_EMU_TOKEN_MS: '1',
    QWEN_EMU_PROMPT_TOKEN_MS: '0',
    QWEN_EMU_FAULT_FILE: faultFile,
    QWEN_EMU_START_LOG: startLog,
    ...options.emulatorEnv,
  };
  const started = await startQwenApp(config, sources, {
    logger: options.logger ?? ['error'],
    runnerEnv,
  });
  const model = started.app.get(ModelService);
  const tokenizer = started.app.get(TokenizerSupervisor);
  const service: TestService = {
    url: started.url,
    ollamaUrl: started.ollamaUrl,
    app: started.app,
    config,
    root,
    modelDir,
    logDir: config.paths.logDir,
    runDir: config.paths.runDir,
    faultFile,
    startLog,
    model,
    tokenizer,
    adminAuthorization: () => ({ Authorization: `Bearer ${config.server.adminToken || readFileSync(join(config.paths.runDir, ADMIN_TOKEN_FILE), 'utf8').trim()}` }),
    waitForModel: (predicate, what, ms = 20000) => firstMatching(model.snapshots$, predicate, what, ms),
    async close() {
      await started.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  if (options.waitReady ?? true) {
    try {
      await service.waitForModel((s) => s.state === 'ready', 'the model to be ready', 30000);
    } catch (error) {
      await service.close();
      throw error;
    }
  }
  return service;
}
