export * from './free-port';
export * from './service-harness';
export * from './wait-until';
