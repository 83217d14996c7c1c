import { DynamicModule, Module } from '@nestjs/common';
import { MODEL_OPTIONS, ModelModuleOptions } from './model.options';
import { ModelClock } from './model-clock';
import { ModelService } from './model.service';
import { RunnerPidFile } from './runner-pid-file';
import { RunnerProcess } from './runner-process';

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
      providers: [{ provide: MODEL_OPTIONS, useValue: options }, ModelService, RunnerProcess, RunnerPidFile, ModelClock],
      exports: [MODEL_OPTIONS, ModelService],
    };
  }
}
