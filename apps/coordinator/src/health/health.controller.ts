// GET /health: the process is alive (always 200 while it answers). GET /ready: 200 only when the
// model is loaded, the worker group is healthy and the engine loop is idle or made progress in
// the last READY_STALL_MS; else 503 with the reason (for Kubernetes readiness probes).
import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { EngineLoopService } from '../engine/engine-loop.service';
import { sendJson } from '../openai/openai-http';

export const READY_STALL_MS = 60_000;

@Controller()
export class HealthController {
  constructor(@Inject(EngineLoopService) private readonly engine: EngineLoopService) {}

  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(@Res() res: ServerResponse): void {
    const reason = this.notReadyReason();
    if (reason === undefined) sendJson(res, 200, { status: 'ready' });
    else sendJson(res, 503, { status: 'not_ready', reason });
  }

  private notReadyReason(): string | undefined {
    if (!this.engine.isHealthy) return 'the worker group failed or the server is shutting down';
    const stalledMs = Date.now() - this.engine.lastProgressAt;
    if (!this.engine.isIdle && stalledMs > READY_STALL_MS) return `the engine made no progress for ${Math.round(stalledMs / 1000)} s`;
    return undefined;
  }
}
