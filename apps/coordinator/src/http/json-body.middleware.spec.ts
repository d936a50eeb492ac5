// The JSON body middleware on a plain HTTP server (no model): an oversized body is answered with
// 413 at once and no more than one more limit is read (it used to read up to 64x the limit, then
// cut without an answer); a declared oversized Content-Length is refused before reading; only
// application/json is accepted (text/plain would let any web page post as a "simple request").
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJsonContentType, jsonBodyMiddleware } from './json-body.middleware';

const LIMIT = 1024;
let server: Server;
let port: number;
let bytesRead = 0;

beforeAll(async () => {
  const middleware = jsonBodyMiddleware(LIMIT);
  server = createServer((req, res) => {
    bytesRead = 0;
    req.on('data', (chunk: Buffer) => (bytesRead += chunk.length));
    middleware(req, res, () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends a chunked body of up to `total` bytes, 512 at a time; resolves with the response text once the server closes. */
function sendChunked(total: number, contentType = 'application/json'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let isClosed = false;
    socket.on('data', (d: Buffer) => (response += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      isClosed = true;
      resolve(response);
    });
    socket.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = 'x'.repeat(512);
    let sent = 0;
    const pump = (): void => {
      if (isClosed || socket.destroyed) return;
      if (sent >= total) {
        socket.end('0\r\n\r\n');
        return;
      }
      sent += chunk.length;
      socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`, () => setTimeout(pump, 1));
    };
    pump();
  });
}

describe('jsonBodyMiddleware', () => {
  it('answers an oversized chunked body with 413 at once and reads at most one more limit', async () => {
    const response = await sendChunked(256 * LIMIT);
    expect(response.startsWith('HTTP/1.1 413')).toBe(true);
    expect(response).toContain('"code":"request_too_large"');
    expect(bytesRead).toBeLessThanOrEqual(2 * LIMIT + 1024);
  });

  it('refuses a declared Content-Length above the limit before reading the body', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(LIMIT + 1) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
  });

  it('accepts application/json bodies up to the limit', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ a: 'y'.repeat(LIMIT - 20) }) });
    expect(res.status).toBe(200);
  });

  it('refuses text/plain and form bodies with 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': type }, body: '{"model":"m"}' });
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    }
  });

  it('knows which content types are JSON', () => {
    expect([isJsonContentType('application/json'), isJsonContentType('Application/JSON; charset=utf-8'), isJsonContentType('application/vnd.api+json')]).toEqual([true, true, true]);
    expect([isJsonContentType(undefined), isJsonContentType('text/plain'), isJsonContentType('multipart/form-data')]).toEqual([false, false, false]);
  });
});
