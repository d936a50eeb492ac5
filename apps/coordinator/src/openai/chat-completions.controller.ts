// POST /v1/chat/completions (OpenAI chat completions; stream or not). Errors before any output
// are answered as JSON in OpenAI's error shape; after the stream started, as an SSE error event.
import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { requestContext } from '../http/request-context';
import { MetricsService } from '../metrics/metrics.service';
import { ChatCompletionsService } from './chat-completions.service';
import { serveGeneration, type BodyRequest } from './openai-http';

@Controller('v1')
export class ChatCompletionsController {
  constructor(
    @Inject(ChatCompletionsService) private readonly service: ChatCompletionsService,
    @Inject(MetricsService) private readonly metrics: MetricsService,
  ) {}

  @Post('chat/completions')
  async create(@Req() req: BodyRequest, @Res() res: ServerResponse): Promise<void> {
    const status = await serveGeneration(this.service, req, res);
    this.metrics.recordRequest('chat_completions', status, (performance.now() - requestContext(req).arrivedAtMs) / 1000);
  }
}
