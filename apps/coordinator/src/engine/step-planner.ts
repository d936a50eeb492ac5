// StepPlanner: the sending side of the engine loop. It schedules and sends steps until the
// workers hold as many as they may (the running one and --steps-ahead behind it with async
// scheduling), tells listeners of admissions and scheduler finishes, and notes why a plan came
// out empty while a step with work ran (the cause the step sent after its reply carries, see
// step-send-cause.ts). sendAhead() serves an arrival while the loop waits for a reply.
import type { SamplingParams } from '../../../../libs/native/src/types';
import type { Scheduler } from '../../../../libs/scheduler/src/scheduler';
import type { SchedulerOutput } from '../../../../libs/scheduler/src/scheduler-output';
import type { LiveSequences } from './live-sequences';
import type { SentStepPipeline } from './sent-step-pipeline';
import { buildStepInput } from './step-input-builder';
import type { StepReport } from './step-report';
import { type StepSendCause, whyNothingPlanned } from './step-send-cause';

export class StepPlanner {
  /** Why the last plan made while a step with work ran was empty. */
  private emptyPlanCause: StepSendCause = 'other';

  constructor(
    private readonly scheduler: Scheduler<SamplingParams>,
    private readonly pipeline: SentStepPipeline,
    private readonly live: LiveSequences,
    private readonly report: StepReport,
    /** False while a worker fault waits for recovery: nothing more is sent. */
    private readonly canSend: () => boolean,
  ) {}

  /** Steps on the workers at most: the running one and those sent behind it. */
  get depth(): number {
    return 1 + this.scheduler.stepsAhead;
  }

  /** Schedules and sends until the workers hold `depth` steps or nothing more can be planned. */
  fill(): void {
    while (this.pipeline.length < this.depth && this.canSend()) {
      if (this.planAndSend().scheduled.length === 0) break; // nothing more to plan before a reply
    }
  }

  /**
   * A request arrived while the loop waits for a reply, with room behind the steps on the workers
   * (the plan behind them was empty): its step goes now, not after the reply, so the workers go
   * on without waiting. Not while constrained sequences run: they sit out the step behind theirs,
   * so a step sent now would split their batch into two halves taking turns, and half batches
   * cost about as much as the wait they save.
   */
  sendAhead(): void {
    if (this.pipeline.length >= this.depth || !this.canSend() || this.scheduler.hasUnspeculableRunning) return;
    this.planAndSend();
  }

  /** One schedule(), its step sent, its admissions and finishes told to their listeners. */
  private planAndSend(): SchedulerOutput<SamplingParams> {
    const hasWorkInFlight = this.pipeline.hasWork;
    const out = this.scheduler.schedule(Date.now());
    this.send(out);
    if (hasWorkInFlight && out.scheduled.length === 0) this.emptyPlanCause = whyNothingPlanned(this.scheduler, this.live.ids());
    for (const { requestId } of out.newRequests) this.live.admitted(requestId, this.scheduler.getRequest(requestId)?.numComputedTokens ?? 0);
    this.report.finish(out.finishedRequests);
    return out;
  }

  /** Sends the step `out` describes (or only its forget ids); nothing when it is empty. */
  private send(out: SchedulerOutput<SamplingParams>): void {
    const isAsync = this.scheduler.config.asyncScheduling === true;
    const causeIfBehind = isAsync ? this.emptyPlanCause : 'synchronous';
    this.emptyPlanCause = 'other';
    if (out.scheduled.length > 0) {
      const input = buildStepInput(out, (id) => this.scheduler.getRequest(id)?.allTokens, (id) => this.live.get(id)?.constraint?.mask());
      this.pipeline.send(out, { ...input, shareSamples: isAsync }, causeIfBehind);
    } else if (out.finishedIds.length > 0) {
      this.pipeline.send(out, { stepId: out.stepId, newSequences: [], scheduled: [], finished: out.finishedIds }, causeIfBehind);
    }
  }
}
