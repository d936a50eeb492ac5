// What the HTTP layer learns about a request before the route runs, carried on the request
// object: when it arrived (TTFT and E2E latency are measured from here, not from after
// tokenization), the API key the auth guard accepted, and the rate-limit accounting.
import type { IncomingMessage } from 'node:http';
import type { ApiKeyRecord } from '../../../../libs/store/src/api-key-record';
import type { RequestAccounting } from '../rate-limit/request-accounting';

export interface RequestContext {
  /** performance.now() when the request arrived. */
  arrivedAtMs: number;
  apiKey?: ApiKeyRecord;
  accounting?: RequestAccounting;
}

export type ContextRequest = IncomingMessage & { body?: unknown; tpserveContext?: RequestContext };

/** The request's context, made at its first use (the arrival middleware runs first of all). */
export function requestContext(req: ContextRequest): RequestContext {
  return (req.tpserveContext ??= { arrivedAtMs: performance.now() });
}

/** Middleware that stamps the arrival time before anything reads the body. */
export function arrivalMiddleware(req: ContextRequest, _res: unknown, next: () => void): void {
  requestContext(req);
  next();
}
