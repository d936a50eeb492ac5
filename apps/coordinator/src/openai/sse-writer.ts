// SseWriter: OpenAI-style server-sent events on a raw Node response: `data: <json>\n\n` per
// chunk and `data: [DONE]\n\n` at the end; an error after the headers went out is sent as a
// `data: {"error": ...}` event (what OpenAI and vLLM do). Backpressure: `send` resolves once the
// socket takes more (at once, or after 'drain'), so a slow reader holds the writer back instead
// of piling the stream up in the response's memory. Tests: sse-writer.spec.ts.
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

  /** Writes one event; resolves when the socket can take the next (or the client is gone). */
  async send(data: unknown): Promise<void> {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (!this.res.write(formatSseData(data))) await this.drained();
  }

  done(): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.end(SSE_DONE);
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }
}
