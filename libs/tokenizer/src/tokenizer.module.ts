import { DynamicModule, Module } from '@nestjs/common';
import { TokenizerBridge } from './tokenizer-bridge';
import { TokenizerClient } from './tokenizer-client';
import { Clock } from '@qwen/supervision';
import { TokenizerProbe } from './tokenizer-probe';
import { TokenizerProcess } from './tokenizer-process';
import { TOKENIZER_OPTIONS, TokenizerModuleOptions } from './tokenizer.options';
import { TokenizerSupervisor } from './tokenizer-supervisor';

/**
 * Owns the tokenizer server process the runner calls over HTTP: starts it, health-checks it,
 * restarts it, and gives the rest of the service a typed client for it.
 * Registered once by the application; global so ModelModule and HealthModule can inject it.
 * Tests swap TokenizerProcess / TokenizerProbe / Clock with overrideProvider().
 */
@Module({})
export class TokenizerModule {
  static register(options: TokenizerModuleOptions): DynamicModule {
    return {
      module: TokenizerModule,
      global: true,
      providers: [
        { provide: TOKENIZER_OPTIONS, useValue: options },
        Clock,
        TokenizerProcess,
        TokenizerProbe,
        TokenizerSupervisor,
        TokenizerClient,
        TokenizerBridge,
      ],
      exports: [TokenizerSupervisor, TokenizerClient, TokenizerBridge],
    };
  }
}
