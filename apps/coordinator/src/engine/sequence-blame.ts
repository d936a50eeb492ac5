// SequenceBlame: every rank rejected a step for one sequence before changing any state (a
// worker-side validation error). That request alone ends with a 500 naming the problem; the
// others recompute (Scheduler.resetAfterRejectedStep) on the same workers: no restart, nothing
// taken from the restart budget. With async scheduling each step sent behind the rejected one ran
// after it or was rejected too (its placeholders have no sample behind them): its reply says
// which, and so what the workers still know, which one forget-only step then clears.
import type { Logger } from '@nestjs/common';
import type { SamplingParams } from '../../../../libs/native/src/types';
import type { StepExecutor } from '../../../../libs/native/src/step-executor';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import type { Scheduler } from '../../../../libs/scheduler/src/scheduler';
import type { WorkerGroupError } from '../../../../libs/worker-group/src/worker-group';
import type { MetricsService } from '../metrics/metrics.service';
import { finishQuietly, type LiveSequences } from './live-sequences';
import type { SentStep, SentStepPipeline } from './sent-step-pipeline';

export class SequenceBlame {
  constructor(
    private readonly scheduler: Scheduler<SamplingParams>,
    private readonly live: LiveSequences,
    private readonly pipeline: SentStepPipeline,
    private readonly executor: () => StepExecutor,
    private readonly metrics: MetricsService,
    private readonly logger: Logger,
    private readonly logListenerError: (requestId: number, err: unknown) => void,
  ) {}

  /** `rejected`: the step the fault answered (already taken from the pipeline). */
  async blame(fault: WorkerGroupError, rejected: SentStep): Promise<void> {
    const requestId = fault.seqId as number;
    this.logger.error(`request ${requestId}: the workers rejected its step, ending it alone: ${fault.message}`);
    const planned: Array<{ out: SentStep['out']; hasRun: boolean }> = [];
    for (let step = this.pipeline.dropOldest(); step !== undefined; step = this.pipeline.dropOldest()) {
      planned.push({ out: step.out, hasRun: await step.reply.then(() => true, () => false) });
    }
    this.scheduler.abortRequest(requestId);
    const { resumed, forgetIds } = this.scheduler.resetAfterRejectedStep(rejected.out, planned);
    const error = new OpenAiError(500, `Internal error: the model workers rejected this request: ${fault.message}`, null, 'internal_error');
    const seq = this.live.delete(requestId);
    if (seq !== undefined) finishQuietly(seq, { reason: 'error', error }, (again) => this.logListenerError(requestId, again));
    this.logger.warn(`${resumed.filter((id) => id !== requestId).length} other running request(s) resume by recompute`);
    this.metrics.recordSchedulerStats(this.scheduler.getStats());
    // the rejected step ran nowhere: its id is free for this forget-only step
    if (forgetIds.length > 0) await this.executor().step({ stepId: rejected.out.stepId, newSequences: [], scheduled: [], finished: forgetIds });
  }
}
