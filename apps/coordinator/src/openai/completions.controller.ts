// POST /v1/completions (OpenAI legacy completions; stream or not).
import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { requestContext } from '../http/request-context';
import { MetricsService } from '../metrics/metrics.service';
import { CompletionsService } from './completions.service';
import { serveGeneration, type BodyRequest } from './openai-http';

@Controller('v1')
export class CompletionsController {
  constructor(
    @Inject(CompletionsService) private readonly service: CompletionsService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  @Post('completions')
  async create(@Req() req: BodyRequest, @Res() res: ServerResponse): Promise<void> {
    const status = await serveGeneration(this.service, req, res);
    this.metrics.recordRequest('completions', status, (performance.now() - requestContext(req).arrivedAtMs) / 1000);
  }
}
