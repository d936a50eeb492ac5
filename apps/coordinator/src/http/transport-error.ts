// Answers what Node's HTTP parser rejects before any route runs (headers too large: 431, a
// request not sent in time: 408, malformed HTTP: 400) in OpenAI's error shape instead of Node's
// bodiless default, then closes the connection. Tests: http-server.spec.ts.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';

function transportError(err: NodeJS.ErrnoException): OpenAiError {
  if (err.code === 'HPE_HEADER_OVERFLOW') return new OpenAiError(431, 'The request headers are too large.', null, 'request_header_fields_too_large');
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new OpenAiError(408, 'The request was not received in time.', null, 'request_timeout');
  return new OpenAiError(400, 'The request is not valid HTTP.', null, 'bad_request');
}

export function answerTransportError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const error = transportError(err);
  const body = JSON.stringify(error.toBody());
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
