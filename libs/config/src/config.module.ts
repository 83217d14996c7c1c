import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';
import { ConfigSources, loadAppConfig } from './config-loader';

/** Injection token of the validated AppConfig the service started with. */
export const APP_CONFIG = Symbol('APP_CONFIG');
/** Injection token of the sources the configuration was read from (for POST /admin/reload). */
export const CONFIG_SOURCES = Symbol('CONFIG_SOURCES');

/**
 * Holds the configuration: the one validated at start-up, and a way to read the files again
 * (validating the same way) when an operator asks for a reload.
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

@Global()
@Module({})
export class QwenConfigModule {
  static register(config: AppConfig, sources: ConfigSources): DynamicModule {
    return {
      module: QwenConfigModule,
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, isGlobal: true, load: [() => ({ ...config })] })],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CONFIG_SOURCES, useValue: sources },
        { provide: ConfigStore, useValue: new ConfigStore(config, sources) },
      ],
      exports: [APP_CONFIG, CONFIG_SOURCES, ConfigStore],
    };
  }
}
