import type { ReloadedOptions } from '@qwen/admin';
import type { ChatModuleOptions } from '@qwen/chat';
import type { AppConfig } from '@qwen/config';
import type { HealthModuleOptions } from '@qwen/health';

/** What the app adds to the configuration (tests: the runner emulator's environment). */
export interface AppExtras {
  runnerEnv?: Record<string, string>;
}

/** Every module's slice of the configuration. */
export interface ModuleOptions extends ReloadedOptions {
  chat: ChatModuleOptions;
  health: HealthModuleOptions;
}

/**
 * THE one place a configuration becomes module options: used by AppModule at start-up and by
 * POST /admin/reload (AdminModule's `reloadOptions`) with the configuration it re-read.
 */
export function moduleOptionsOf(config: AppConfig, extras: AppExtras = {}): ModuleOptions {
  return {
    tokenizer: { tokenizer: config.tokenizer, paths: config.paths },
    model: {
      model: config.model,
      paths: config.paths,
      tokenizer: { host: config.tokenizer.host, port: config.tokenizer.port },
      runnerEnv: extras.runnerEnv,
    },
    chat: {
      model: config.model,
      apiKeys: config.server.apiKeys,
      structuredOutputRetries: config.chat.jsonRetries,
      ollama: { modelDir: config.paths.modelDir, bodyLimit: config.server.bodyLimit, version: config.chat.ollamaVersion },
    },
    health: { npu: config.npu },
  };
}
