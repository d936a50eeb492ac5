// SSE framing: `data: <json>\n\n` per event, `data: [DONE]\n\n` last, event-stream headers.
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
  write(text: string): void {
    this.body += text;
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

  it('writes the headers once, the events, then [DONE]; nothing after the end', () => {
    const res = new FakeResponse();
    const sse = new SseWriter(res as unknown as ServerResponse);
    sse.start();
    sse.start();
    sse.send({ choices: [{ delta: { content: 'hé' } }] });
    sse.send({ error: { message: 'x' } });
    sse.done();
    sse.send({ late: true });
    sse.done();
    expect(res.status).toBe(200);
    expect(res.headers['Content-Type']).toMatch(/^text\/event-stream/);
    expect(res.headers['Cache-Control']).toBe('no-cache');
    expect(res.body).toBe('data: {"choices":[{"delta":{"content":"hé"}}]}\n\ndata: {"error":{"message":"x"}}\n\ndata: [DONE]\n\n');
  });

  it('writes nothing to a client that is gone', () => {
    const res = new FakeResponse();
    res.destroyed = true;
    const sse = new SseWriter(res as unknown as ServerResponse);
    sse.send({ a: 1 });
    sse.done();
    expect(res.body).toBe('');
  });
});
