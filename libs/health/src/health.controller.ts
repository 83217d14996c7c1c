import { Controller, Get, Header, HttpStatus, Req, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import type { Request, Response } from 'express';
import { HealthDisclosure } from './health-disclosure';
import { HealthReport, HealthReportService } from './health-report.service';
import { ModelHealthIndicator, ProcessHealthIndicator, TokenizerHealthIndicator } from './indicators/dependency-indicators';

/**
 * - GET /health: the whole picture for people (200 ok/degraded, 503 down).
 * - GET /health/live: Terminus liveness; answering proves the process and its event loop work.
 * - GET /health/ready: Terminus readiness; 503 until the tokenizer and the model can take a request.
 * Each shows pids, ports, paths and error texts only to a local scrape (HealthDisclosure).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly reports: HealthReportService,
    private readonly checks: HealthCheckService,
    private readonly processIndicator: ProcessHealthIndicator,
    private readonly tokenizerIndicator: TokenizerHealthIndicator,
    private readonly modelIndicator: ModelHealthIndicator,
    private readonly disclosure: HealthDisclosure,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async health(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    const report = await this.reports.report();
    res.status(report.status === 'down' ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.OK);
    return this.disclosure.isLocalScrape(req) ? report : this.disclosure.redact(report);
  }

  @Get('live')
  @Header('Cache-Control', 'no-store')
  @HealthCheck()
  live(@Req() req: Request) {
    return this.disclosed(req, () => this.checks.check([() => this.processIndicator.check('process')]));
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  @HealthCheck()
  ready(@Req() req: Request) {
    return this.disclosed(req, () => this.checks.check([() => this.tokenizerIndicator.check('tokenizer'), () => this.modelIndicator.check('model')]));
  }

  /** A Terminus check as this client may see it (a failed check is a 503 carrying the result). */
  private async disclosed(req: Request, check: () => Promise<HealthCheckResult>): Promise<HealthCheckResult> {
    if (this.disclosure.isLocalScrape(req)) return check();
    try {
      return this.disclosure.redact(await check());
    } catch (error) {
      if (error instanceof ServiceUnavailableException) throw new ServiceUnavailableException(this.disclosure.redact(error.getResponse()));
      throw error;
    }
  }
}
