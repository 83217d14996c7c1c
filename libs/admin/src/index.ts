export * from './admin-error';
export * from './admin.guard';
export * from './admin.module';
export * from './admin.options';
export * from './admin.service';
export * from './application-closer';
export * from './process-exit';
