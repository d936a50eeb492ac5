// What runs around every route, in order: the arrival stamp, the JSON body parser, then the
// global guards (API key, then rate limit: they cover every route added later, open routes
// excepted), the rate-limit header interceptor, and the OpenAI-shaped exception filter.
import type { INestApplication } from '@nestjs/common';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { RateLimitHeadersInterceptor } from '../rate-limit/rate-limit-headers.interceptor';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { jsonBodyMiddleware } from './json-body.middleware';
import { OpenAiExceptionFilter } from './openai-exception.filter';
import { arrivalMiddleware } from './request-context';

export function installHttpPipeline(app: INestApplication, maxBodyBytes: number): void {
  app.use(arrivalMiddleware);
  app.use(jsonBodyMiddleware(maxBodyBytes));
  app.useGlobalGuards(app.get(ApiKeyGuard), app.get(RateLimitGuard));
  app.useGlobalInterceptors(app.get(RateLimitHeadersInterceptor));
  app.useGlobalFilters(new OpenAiExceptionFilter());
}
