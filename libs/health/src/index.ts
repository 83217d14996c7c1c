export * from './metrics/metrics.module';
export * from './metrics/metrics.service';
