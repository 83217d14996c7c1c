import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service';

/** Global so ChatModule's pipeline can report requests without importing HealthModule. */
@Global()
@Module({ providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
