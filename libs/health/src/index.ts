export { HealthModule } from './health.module';
export type { HealthModuleOptions } from './health.options';
export { MetricsModule } from './metrics/metrics.module';
export { MetricsService } from './metrics/metrics.service';
export type { RequestObservation } from './metrics/metrics.service';
