// SSE framing: `data: <json>\n\n` per event, `data: [DONE]\n\n` last, event-stream headers;
// backpressure against a real socket whose reader pauses.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { formatSseData, SSE_DONE, SseWriter } from './sse-writer';

class FakeResponse {
  status = 0;
  headers: Record<string, string> = {};
  body = '';
  writableEnded = false;
  destroyed = false;
  writeHead(status: number, headers: Record<string, string>): void {
    this.status = status;
    this.headers = headers;
  }
  flushHeaders(): void {}
  write(text: string): boolean {
    this.body += text;
    return true;
  }
  end(text = ''): void {
    this.body += text;
    this.writableEnded = true;
  }
}

describe('SseWriter', () => {
  it('formats events as OpenAI does', () => {
    expect(formatSseData({ a: 1 })).toBe('data: {"a":1}\n\n');
    expect(formatSseData('[DONE]')).toBe(SSE_DONE);
  });

  it('writes the headers once, the events, then [DONE]; nothing after the end', async () => {
    const res = new FakeResponse();
    const sse = new SseWriter(res as unknown as ServerResponse);
    sse.start();
    sse.start();
    await sse.send({ choices: [{ delta: { content: 'hé' } }] });
    await sse.send({ error: { message: 'x' } });
    sse.done();
    await sse.send({ late: true });
    sse.done();
    expect(res.status).toBe(200);
    expect(res.headers['Content-Type']).toMatch(/^text\/event-stream/);
    expect(res.headers['Cache-Control']).toBe('no-cache');
    expect(res.body).toBe('data: {"choices":[{"delta":{"content":"hé"}}]}\n\ndata: {"error":{"message":"x"}}\n\ndata: [DONE]\n\n');
  });

  it('writes nothing to a client that is gone', async () => {
    const res = new FakeResponse();
    res.destroyed = true;
    const sse = new SseWriter(res as unknown as ServerResponse);
    await sse.send({ a: 1 });
    sse.done();
    expect(res.body).toBe('');
  });

  it('waits for the socket while the reader pauses: the buffered bytes stay bounded, nothing is lost', async () => {
    const numEvents = 400;
    const payload = 'x'.repeat(64 * 1024);
    let maxBuffered = 0;
    let highWaterMark = 0;
    const server = http.createServer(async (_req, res) => {
      highWaterMark = res.writableHighWaterMark;
      const sse = new SseWriter(res);
      sse.start();
      for (let i = 0; i < numEvents; i++) {
        await sse.send({ i, payload });
        maxBuffered = Math.max(maxBuffered, res.writableLength);
      }
      sse.done();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
          res.pause(); // a slow client: reads nothing for a while, so the socket fills
          setTimeout(() => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            res.on('end', () => resolve(text));
            res.resume();
          }, 1000);
        }).on('error', reject);
      });
      const events = body.split('\n\n').filter(Boolean);
      expect(events).toHaveLength(numEvents + 1);
      expect(events.at(-1)).toBe('data: [DONE]');
      expect(events.slice(0, -1).map((e) => (JSON.parse(e.slice('data: '.length)) as { i: number }).i)).toEqual([...Array(numEvents).keys()]);
      // without backpressure the whole 25 MiB the kernel does not take piles up in the response
      expect(maxBuffered).toBeLessThanOrEqual(highWaterMark + 2 * formatSseData({ i: numEvents, payload }).length);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
