import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { MetricsService } from './metrics.service';

/** GET /metrics: Prometheus text format. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res({ passthrough: true }) res: Response): Promise<string> {
    const text = await this.metrics.metrics();
    // Express may reorder the parameters (charset first); Prometheus reads them in any order.
    res.setHeader('Content-Type', this.metrics.contentType);
    return text;
  }
}
