// POST /v1/completions (OpenAI legacy completions; stream or not).
import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { MetricsService } from '../metrics/metrics.service';
import { CompletionsService } from './completions.service';
import { sendError, sendJson, type BodyRequest } from './openai-http';

@Controller('v1')
export class CompletionsController {
  constructor(
    @Inject(CompletionsService) private readonly service: CompletionsService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  @Post('completions')
  async create(@Req() req: BodyRequest, @Res() res: ServerResponse): Promise<void> {
    const started = performance.now();
    let status = 200;
    try {
      const run = this.service.start(req.body);
      if (run.params.stream) status = await this.service.stream(run, res);
      else sendJson(res, 200, await this.service.complete(run, res));
    } catch (err) {
      status = sendError(res, err).status;
    } finally {
      this.metrics.recordRequest('completions', status, (performance.now() - started) / 1000);
    }
  }
}
