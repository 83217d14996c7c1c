import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';
import { ConfigSources, loadAppConfig } from './config-loader';

/**
 * The one store of the configuration: the one validated at start-up, and a way to read the files
 * and the environment again (validating the same way) when an operator asks for a reload.
 * Modules do not inject it for their settings: each gets its slice through `register(options)`
 * (apps/qwen-chat/src/module-options.ts); it is read where a setting must follow a reload (the admin token).
 */
export class ConfigStore {
  private config: AppConfig;

  constructor(
    initial: AppConfig,
    private readonly sources: ConfigSources,
  ) {
    this.config = initial;
  }

  current(): AppConfig {
    return this.config;
  }

  /** Re-reads defaults, QWEN_CONFIG and the environment; throws ConfigError and keeps the old one if invalid. */
  reload(): AppConfig {
    this.config = loadAppConfig(this.sources);
    return this.config;
  }
}

/** Provides the global ConfigStore. */
@Global()
@Module({})
export class QwenConfigModule {
  static register(config: AppConfig, sources: ConfigSources): DynamicModule {
    return {
      module: QwenConfigModule,
      providers: [{ provide: ConfigStore, useValue: new ConfigStore(config, sources) }],
      exports: [ConfigStore],
    };
  }
}
