import { DynamicModule, Module } from '@nestjs/common';
import { Clock } from '@qwen/supervision';
import { MODEL_OPTIONS, ModelModuleOptions } from './model.options';
import { ModelService } from './model.service';
import { PromptRegistrar } from './prompt-registrar';
import { RunDirectoryLock } from './run-directory-lock';
import { RunnerPidFile } from './runner-pid-file';
import { RunnerProcess } from './runner-process';
import { RunnerSupervisor } from './runner-supervisor';

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
      providers: [
        { provide: MODEL_OPTIONS, useValue: options },
        ModelService,
        RunnerSupervisor,
        PromptRegistrar,
        RunnerProcess,
        RunnerPidFile,
        RunDirectoryLock,
        Clock,
      ],
      exports: [MODEL_OPTIONS, ModelService],
    };
  }
}
