// GET /metrics: Prometheus text exposition of MetricsService's registry.
import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { MetricsService } from './metrics.service';

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(MetricsService) private readonly metrics: MetricsService) {}

  @Get()
  async render(@Res() res: ServerResponse): Promise<void> {
    const text = await this.metrics.render();
    res.writeHead(200, { 'Content-Type': this.metrics.contentType });
    res.end(text);
  }
}
