import { Controller, Get, Header, HttpStatus, Res } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import type { Response } from 'express';
import { HealthReport, HealthReportService } from './health-report.service';
import { ModelHealthIndicator, ProcessHealthIndicator, TokenizerHealthIndicator } from './indicators/dependency-indicators';

/**
 * - GET /health: the whole picture for people (200 ok/degraded, 503 down).
 * - GET /health/live: Terminus liveness; answering proves the process and its event loop work.
 * - GET /health/ready: Terminus readiness; 503 until the tokenizer and the model can take a request.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly reports: HealthReportService,
    private readonly checks: HealthCheckService,
    private readonly processIndicator: ProcessHealthIndicator,
    private readonly tokenizerIndicator: TokenizerHealthIndicator,
    private readonly modelIndicator: ModelHealthIndicator,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async health(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    const report = await this.reports.report();
    res.status(report.status === 'down' ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.OK);
    return report;
  }

  @Get('live')
  @Header('Cache-Control', 'no-store')
  @HealthCheck()
  live() {
    return this.checks.check([() => this.processIndicator.check('process')]);
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  @HealthCheck()
  ready() {
    return this.checks.check([() => this.tokenizerIndicator.check('tokenizer'), () => this.modelIndicator.check('model')]);
  }
}
