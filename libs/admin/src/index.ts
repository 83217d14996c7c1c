export { AdminModule } from './admin.module';
export type { AdminModuleOptions, ReloadedOptions } from './admin.options';
export { ApplicationCloser } from './application-closer';
export { ProcessExit } from './process-exit';
