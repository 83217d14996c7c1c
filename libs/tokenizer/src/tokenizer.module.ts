import { DynamicModule, Module } from '@nestjs/common';
import type { PathsConfig, TokenizerConfig } from '@qwen/config';

/** Injection token of TokenizerModule's options. */
export const TOKENIZER_OPTIONS = Symbol('TOKENIZER_OPTIONS');

export interface TokenizerModuleOptions {
  tokenizer: TokenizerConfig;
  paths: PathsConfig;
}

/**
 * Owns the tokenizer server process the runner calls over HTTP: starts it, health-checks it,
 * restarts it, and gives the rest of the service a typed client for it.
 * Registered once by the application; global so ModelModule and HealthModule can inject it.
 */
@Module({})
export class TokenizerModule {
  static register(options: TokenizerModuleOptions): DynamicModule {
    return {
      module: TokenizerModule,
      global: true,
      providers: [{ provide: TOKENIZER_OPTIONS, useValue: options }],
      exports: [TOKENIZER_OPTIONS],
    };
  }
}
