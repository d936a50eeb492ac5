// JSON request bodies with OpenAI-shaped errors (Nest's own parser is off): a body above the
// limit is drained and refused with 413, malformed JSON with 400 naming the parse error. The
// body is parsed as JSON whatever the Content-Type (curl -d sends form encoding by default).
// Tests: test/e2e (bad input).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { sendError } from '../openai/openai-http';

type Next = (err?: unknown) => void;

/** Beyond this many times the limit the connection is cut instead of drained. */
const MAX_DRAIN_FACTOR = 64;

export function jsonBodyMiddleware(limitBytes: number): (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: Next) => void {
  const tooLarge = (): OpenAiError =>
    new OpenAiError(413, `The request body exceeds the limit of ${limitBytes} bytes.`, null, 'request_too_large');
  return (req, res, next) => {
    if (req.method !== 'POST' && req.method !== 'PUT' && req.method !== 'PATCH') return next();
    const declared = Number(req.headers['content-length'] ?? NaN);
    const chunks: Buffer[] = [];
    let size = 0;
    let isTooLarge = Number.isFinite(declared) && declared > limitBytes;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) isTooLarge = true;
      if (size > limitBytes * MAX_DRAIN_FACTOR) req.destroy();
      if (!isTooLarge) chunks.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (isTooLarge) {
        sendError(res, tooLarge());
        return;
      }
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
    });
  };
}
