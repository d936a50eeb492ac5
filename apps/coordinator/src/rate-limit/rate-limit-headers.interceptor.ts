// Puts OpenAI's x-ratelimit-* headers on every response of a rate-limited key: those of the
// admission at once, and the token headers again when the service reserves tokens (before any
// byte of the response is written). A 429 carries them on its error (request-accounting.ts).
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import { requestContext, type ContextRequest } from '../http/request-context';

@Injectable()
export class RateLimitHeadersInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const accounting = requestContext(http.getRequest<ContextRequest>()).accounting;
    if (accounting) {
      const res = http.getResponse<ServerResponse>();
      const set = (headers: Record<string, string>): void => {
        if (res.headersSent) return;
        for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      };
      set(accounting.headers);
      accounting.onHeaders = set;
    }
    return next.handle();
  }
}
