// WorkerRecovery: the coordinator's decision on a worker fault. Within the restart budget it
// replaces the group (SupervisedWorkerGroup.restart: fence by pid, respawn, rendezvous, reload),
// retrying a restart that fails to start (after 1, 2, 4 ... s, at most 30 s); past the budget it gives up with
// RestartBudgetExhaustedError. Logs one line per fault (rank, pid, cause) and per recovery
// (time to recover); counts restarts by cause and recovery seconds.
import type { Logger } from '@nestjs/common';
import type { ModelInfo } from '../../../../libs/native/src/types';
import { RestartBudget, type RestartBudgetSpec } from '../../../../libs/worker-group/src/restart-budget';
import type { WorkerGroupError } from '../../../../libs/worker-group/src/worker-group';
import type { MetricsService } from '../metrics/metrics.service';
import type { EngineExecutor } from './model-runtime';

export class RestartBudgetExhaustedError extends Error {}

export function describeFault(err: WorkerGroupError): string {
  const where = err.rank === undefined ? 'the worker group' : `worker rank ${err.rank}${err.pid === undefined ? '' : ` (pid ${err.pid})`}`;
  return `${where}, cause ${err.kind ?? 'step_error'}: ${err.message}`;
}

export class WorkerRecovery {
  private readonly budget: RestartBudget;

  constructor(
    private readonly executor: EngineExecutor,
    budget: RestartBudgetSpec,
    private readonly metrics: MetricsService,
    private readonly logger: Logger,
  ) {
    this.budget = new RestartBudget(budget);
  }

  /** Replaces the failed group; resolves with the new group's model info. */
  async recover(fault: WorkerGroupError): Promise<ModelInfo> {
    const started = performance.now();
    this.logger.error(`worker fault: ${describeFault(fault)}`);
    let cause: string = fault.kind ?? 'step_error';
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** (attempt - 1))));
      if (!this.budget.tryTake(Date.now())) {
        throw new RestartBudgetExhaustedError(
          `the worker group failed more often than the restart budget allows (${this.budget.describe()}); last fault: ${describeFault(fault)}`,
        );
      }
      this.metrics.recordRestart(cause);
      try {
        const info = await this.executor.restart();
        const seconds = (performance.now() - started) / 1000;
        this.logger.warn(`worker group restarted (pids ${this.executor.pids.join(', ')}) in ${seconds.toFixed(2)} s after ${describeFault(fault)}`);
        return info;
      } catch (err) {
        cause = 'load';
        this.logger.error(`worker group restart failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
