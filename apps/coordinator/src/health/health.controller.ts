// GET /health: liveness. 200 while the engine can serve, even while it replaces a failed worker
// group; 503 with the reason once the restart budget is spent, so the orchestrator replaces the
// pod. GET /ready: 200 only when the engine takes and serves requests now: not restarting a
// worker group, not draining for shutdown, not broken, and idle or making progress in the last
// READY_STALL_MS; else 503 with the reason (Kubernetes readiness probes).
import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { EngineLoopService } from '../engine/engine-loop.service';
import { sendJson } from '../openai/openai-http';

export const READY_STALL_MS = 60_000;

@Controller()
export class HealthController {
  constructor(@Inject(EngineLoopService) private readonly engine: EngineLoopService) {}

  @Get('health')
  health(@Res() res: ServerResponse): void {
    const reason = this.engine.brokenReason;
    if (reason === undefined) sendJson(res, 200, { status: 'ok' });
    else sendJson(res, 503, { status: 'failed', reason });
  }

  @Get('ready')
  ready(@Res() res: ServerResponse): void {
    const reason = this.notReadyReason();
    if (reason === undefined) sendJson(res, 200, { status: 'ready' });
    else sendJson(res, 503, { status: 'not_ready', reason });
  }

  private notReadyReason(): string | undefined {
    const e = this.engine;
    if (e.brokenReason !== undefined) return e.brokenReason;
    if (e.isRecovering) return 'the worker group is restarting after a fault';
    if (!e.isHealthy) return 'the server is shutting down'; // draining or closing
    const stalledMs = Date.now() - e.lastProgressAt;
    if (!e.isIdle && stalledMs > READY_STALL_MS) return `the engine made no progress for ${Math.round(stalledMs / 1000)} s`;
    return undefined;
  }
}
