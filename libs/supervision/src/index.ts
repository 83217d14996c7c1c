export * from './child-environment';
export * from './clock';
export * from './graceful-stop';
export * from './restart-backoff';
export * from './wait-for';
