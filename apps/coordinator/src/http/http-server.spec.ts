// The hardened HTTP server (no model): headers too large → 431 and a client that does not send
// its headers in time → 408, both in OpenAI's error shape; the connection cap holds; idle
// keep-alive and header deadlines are the configured ones.
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer } from './http-server';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function listen(limits: Partial<Parameters<typeof createHttpServer>[1]> = {}): Promise<number> {
  server = createHttpServer((_req, res) => res.end('ok'), { headerTimeoutMs: 1000, bodyTimeoutMs: 5000, idleTimeoutMs: 2000, maxConnections: 0, ...limits });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server!.address() as { port: number }).port;
}

function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    socket.on('data', (d: Buffer) => (response += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(response));
    socket.write(text);
  });
}

describe('createHttpServer', () => {
  it('answers oversized headers with 431 in OpenAI shape', async () => {
    const port = await listen();
    const response = await rawExchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(response.startsWith('HTTP/1.1 431')).toBe(true);
    const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: 'request_header_fields_too_large', type: 'invalid_request_error' });
  });

  it('answers a client that never finishes its headers with 408 within the deadline', async () => {
    const port = await listen({ headerTimeoutMs: 1000 });
    const started = Date.now();
    const response = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n');
    expect(response.startsWith('HTTP/1.1 408')).toBe(true);
    expect(response).toContain('"code":"request_timeout"');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('applies the configured idle timeout and connection cap', async () => {
    await listen({ idleTimeoutMs: 1234, maxConnections: 7 });
    expect(server!.keepAliveTimeout).toBe(1234);
    expect(server!.maxConnections).toBe(7);
    expect(server!.headersTimeout).toBe(1000);
    expect(server!.requestTimeout).toBe(5000);
  });
});
