import { DynamicModule, Module } from '@nestjs/common';
import type { ModelConfig, PathsConfig, TokenizerConfig } from '@qwen/config';

/** Injection token of ModelModule's options. */
export const MODEL_OPTIONS = Symbol('MODEL_OPTIONS');

export interface ModelModuleOptions {
  model: ModelConfig;
  paths: PathsConfig;
  /** Where our tokenizer server listens (the runner is given http://host:port). */
  tokenizer: Pick<TokenizerConfig, 'host' | 'port'>;
}

/**
 * Keeps ONE long-lived runner process (main_axcl_*) loaded and drives its REPL through node-pty.
 * Global so ChatModule, HealthModule and AdminModule can inject ModelService.
 */
@Module({})
export class ModelModule {
  static register(options: ModelModuleOptions): DynamicModule {
    return {
      module: ModelModule,
      global: true,
      providers: [{ provide: MODEL_OPTIONS, useValue: options }],
      exports: [MODEL_OPTIONS],
    };
  }
}
