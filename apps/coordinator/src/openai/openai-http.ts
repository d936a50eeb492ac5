// Small helpers of the OpenAI routes on raw Node responses: JSON answers, OpenAI-shaped errors,
// and noticing a client that went away (the response closed before we ended it).
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { requestContext, type ContextRequest } from '../http/request-context';
import type { RequestUsage } from '../rate-limit/request-accounting';

export type BodyRequest = ContextRequest;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function toOpenAiError(err: unknown): OpenAiError {
  if (err instanceof OpenAiError) return err;
  return new OpenAiError(500, `Internal server error: ${err instanceof Error ? err.message : String(err)}`, null, 'internal_error');
}

export function sendError(res: ServerResponse, err: unknown): OpenAiError {
  const error = toOpenAiError(err);
  sendJson(res, error.status, error.toBody(), error.headers);
  return error;
}

/** Calls `onGone` once if the client disconnects before the response was ended. */
export function onClientGone(res: ServerResponse, onGone: () => void): void {
  res.once('close', () => {
    if (!res.writableEnded) onGone();
  });
}

export function completionId(prefix: 'chatcmpl' | 'cmpl'): string {
  return `${prefix}-${randomUUID().replace(/-/g, '')}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** What a service learns from the HTTP layer when it starts a generation. */
export interface GenerationContext {
  /** performance.now() at the request's arrival (TTFT counts from here). */
  arrivedAtMs: number;
  /** Reserves prompt + max tokens against the key's tokens per minute; throws a 429. */
  reserveTokens(numTokens: number): Promise<void>;
}

/** What the chat and legacy completions services share: validate and start, then answer. */
export interface GenerationService<Run extends { params: { stream?: boolean } }> {
  start(body: unknown, context: GenerationContext): Promise<Run>;
  complete(run: Run, res: ServerResponse): Promise<unknown>;
  /** Streams the answer as SSE; returns the HTTP status that was sent. */
  stream(run: Run, res: ServerResponse): Promise<number>;
  /** The tokens the run used so far (all of them once it ended, also when abandoned). */
  usageOf(run: Run): RequestUsage;
}

/** Serves one generation request (JSON or SSE); returns the HTTP status sent. */
export async function serveGeneration<Run extends { params: { stream?: boolean } }>(
  service: GenerationService<Run>,
  req: BodyRequest,
  res: ServerResponse,
): Promise<number> {
  const { arrivedAtMs, accounting } = requestContext(req);
  let run: Run | undefined;
  try {
    run = await service.start(req.body, { arrivedAtMs, reserveTokens: async (n) => accounting?.reserveTokens(n) });
    if (run.params.stream) return await service.stream(run, res);
    sendJson(res, 200, await service.complete(run, res));
    return 200;
  } catch (err) {
    return sendError(res, err).status;
  } finally {
    // usage and the token correction, also for failed and abandoned runs
    accounting?.finish(run === undefined ? undefined : service.usageOf(run));
  }
}
