// SseWriter: OpenAI-style server-sent events on a raw Node response: `data: <json>\n\n` per
// chunk and `data: [DONE]\n\n` at the end; an error after the headers went out is sent as a
// `data: {"error": ...}` event (what OpenAI and vLLM do). Tests: sse-writer.spec.ts.
import type { ServerResponse } from 'node:http';

export function formatSseData(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';

export class SseWriter {
  private hasStarted = false;

  constructor(private readonly res: ServerResponse) {}

  get started(): boolean {
    return this.hasStarted;
  }

  /** Sends the 200 and the event-stream headers. */
  start(): void {
    if (this.hasStarted) return;
    this.hasStarted = true;
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no', // nginx / gateways: do not buffer the stream
    });
    this.res.flushHeaders();
  }

  send(data: unknown): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(formatSseData(data));
  }

  done(): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.end(SSE_DONE);
  }
}
