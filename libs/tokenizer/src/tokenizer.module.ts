import { DynamicModule, Module } from '@nestjs/common';
import { TOKENIZER_OPTIONS, TokenizerModuleOptions } from './tokenizer.options';
import { TokenizerSupervisor } from './tokenizer-supervisor';

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
      providers: [{ provide: TOKENIZER_OPTIONS, useValue: options }, TokenizerSupervisor],
      exports: [TOKENIZER_OPTIONS, TokenizerSupervisor],
    };
  }
}
