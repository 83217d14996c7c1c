export * from './app-config';
export { ConfigError, ENV_BINDINGS, loadAppConfig } from './config-loader';
export type { ConfigSources } from './config-loader';
export type { EnvBinding, EnvKind } from './env-binding';
export * from './config.module';
export * from './install-root';
