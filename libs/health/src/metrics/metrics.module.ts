import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/**
 * GET /metrics and the MetricsService behind it. Global so ChatModule's pipeline can report
 * requests without importing HealthModule; ModelService and TokenizerSupervisor are read at
 * scrape time when the application has them.
 */
@Global()
@Module({ controllers: [MetricsController], providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
