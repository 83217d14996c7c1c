import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthClock } from './health-clock';
import { HealthController } from './health.controller';
import { HealthDisclosure } from './health-disclosure';
import { HEALTH_OPTIONS, HealthModuleOptions } from './health.options';
import { HealthReportService } from './health-report.service';
import {
  ModelHealthIndicator,
  NpuHealthIndicator,
  ProcessHealthIndicator,
  TokenizerHealthIndicator,
} from './indicators/dependency-indicators';
import { CommandRunner } from './npu/command-runner';
import { NpuStatusService } from './npu/npu-status.service';
import { readServiceVersion } from './service-version';

/**
 * GET /health, /health/live, /health/ready and the card's status (axcl-smi).
 * Wire it as `HealthModule.register({ npu: config.npu })`; it reads ModelService and
 * TokenizerSupervisor (global modules). GET /metrics is MetricsModule's.
 */
@Module({})
export class HealthModule {
  static register(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      // Terminus' own error log would print every 503 of /health/ready while the model loads;
      // state changes are logged once by the modules that own them.
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        { provide: HEALTH_OPTIONS, useValue: { ...options, version: options.version ?? readServiceVersion() } },
        HealthClock,
        HealthDisclosure,
        CommandRunner,
        NpuStatusService,
        TokenizerHealthIndicator,
        ModelHealthIndicator,
        NpuHealthIndicator,
        ProcessHealthIndicator,
        HealthReportService,
      ],
    };
  }
}
