// JSON request bodies with OpenAI-shaped errors (Nest's own parser is off). Only
// `application/json` (or `+json`) bodies are read: anything else is 415, so no web page can post
// to the API as a CORS "simple request" (text/plain, forms). A body declared or found larger than
// the limit is answered with 413 at once and the connection closed after at most one more limit's
// worth of draining (so the client can read the answer) — never read to the end. Malformed JSON
// is a 400 naming the parse error. Tests: json-body.middleware.spec.ts, test/e2e (bad input).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { sendError } from '../openai/openai-http';

type Next = (err?: unknown) => void;

/** After a 413, at most this much more is drained (and never more than one limit). */
const MAX_DRAIN_BYTES = 64 * 1024;

export function isJsonContentType(value: string | undefined): boolean {
  const type = (value ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

export function jsonBodyMiddleware(limitBytes: number): (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: Next) => void {
  const tooLarge = (): OpenAiError =>
    new OpenAiError(413, `The request body exceeds the limit of ${limitBytes} bytes.`, null, 'request_too_large');
  const drainBytes = Math.min(limitBytes, MAX_DRAIN_BYTES);
  return (req, res, next) => {
    if (req.method !== 'POST' && req.method !== 'PUT' && req.method !== 'PATCH') return next();
    if (!isJsonContentType(req.headers['content-type'])) {
      refuse(req, res, new OpenAiError(415, `Unsupported Content-Type '${req.headers['content-type'] ?? ''}': send the body as application/json.`, null, 'unsupported_media_type'), drainBytes);
      return;
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limitBytes) {
      refuse(req, res, tooLarge(), drainBytes);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      chunks.length = 0;
      refuse(req, res, tooLarge(), drainBytes);
    };
    const onEnd = (): void => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        sendError(res, OpenAiError.invalid('The request body is empty; expected a JSON object.', null, 'invalid_json'));
        return;
      }
      try {
        req.body = JSON.parse(text);
      } catch (err) {
        sendError(res, OpenAiError.invalid(`The request body is not valid JSON: ${(err as Error).message}`, null, 'invalid_json'));
        return;
      }
      next();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => undefined);
  };
}

/** Answers at once with Connection: close; drains at most `drainBytes` more, then cuts. */
function refuse(req: IncomingMessage, res: ServerResponse, error: OpenAiError, drainBytes: number): void {
  res.setHeader('Connection', 'close');
  sendError(res, error);
  let drained = 0;
  const cut = (): void => void req.socket.destroy();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > drainBytes) cut();
  });
  req.on('error', () => undefined);
  res.once('finish', () => setTimeout(cut, 1000).unref());
}
