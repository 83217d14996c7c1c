export { AdminModule } from './admin.module';
export type { AdminModuleOptions, ReloadedOptions } from './admin.options';
export { ADMIN_TOKEN_FILE, AdminToken } from './admin-token';
export { ApplicationCloser } from './application-closer';
export { ProcessExit } from './process-exit';
