// SentStepPipeline: the steps on the workers whose replies the engine loop has not applied yet,
// oldest first. With async scheduling there are up to two: the one running and the one sent
// right behind it (placeholders for the first one's tokens, which the workers fill), so a worker
// starts step N+1 the moment it finishes N. Each reply's rejection is observed here (a fault is
// handled where the reply is awaited), and the pipeline knows which steps were sent while the
// engine had work: only for those is the workers' wait (StepTimings.waitUs) a time between steps
// (not after an idle pause, and not around a forget-only step: the batch had run dry), and why
// each step went when it did (StepSendCause: sent ahead, or why it could not be).
import type { SamplingParams, StepInput, StepOutput } from '../../../../libs/native/src/types';
import type { StepExecutor } from '../../../../libs/native/src/step-executor';
import type { SchedulerOutput } from '../../../../libs/scheduler/src/scheduler-output';
import type { StepSendCause } from './step-send-cause';

export interface SentStep {
  readonly out: SchedulerOutput<SamplingParams>;
  readonly reply: Promise<StepOutput>;
  /** performance.now() when sent. */
  readonly sentAt: number;
  /** Sent while the engine had work: no idle pause since the previous reply, and it and the step before it compute something. */
  readonly isBackToBack: boolean;
  /** 'sent_ahead' when a step with work was on the workers when it was sent, else why it waited for a reply. */
  readonly cause: StepSendCause;
  /** ms from the latest reply received before it was sent (the reply-to-send path of the loop). */
  readonly sinceReplyMs: number;
}

/** What one applied reply tells the metrics. */
export interface StepTiming {
  /** Time the step held the workers: from max(sent, previous reply) to its reply, seconds. */
  seconds: number;
  /** The workers' own wait before it (seconds), or undefined when the engine had been idle. */
  waitSeconds: number | undefined;
}

export class SentStepPipeline {
  private readonly steps: SentStep[] = [];
  private isIdle = true;
  private hasLastSentWork = false;
  private lastReplyAt = 0;

  constructor(private readonly executor: () => StepExecutor) {}

  get length(): number {
    return this.steps.length;
  }

  /** The oldest step not applied yet. */
  get oldest(): SentStep | undefined {
    return this.steps[0];
  }

  /** Whether a step that computes something is on the workers. */
  get hasWork(): boolean {
    return this.steps.some((s) => s.out.scheduled.length > 0);
  }

  /** The step sent right behind the oldest (async scheduling). */
  get next(): SentStep | undefined {
    return this.steps[1];
  }

  /** Sends `input` (the step `out` describes) to every rank now; `causeIfBehind`: why, if no step with work runs. */
  send(out: SchedulerOutput<SamplingParams>, input: StepInput, causeIfBehind: StepSendCause): void {
    const cause = this.hasWork ? 'sent_ahead' : causeIfBehind;
    const reply = this.executor().step(input);
    reply.catch(() => undefined); // observed where it is awaited; a fault is recovered there
    const hasWork = out.scheduled.length > 0;
    const sentAt = performance.now();
    this.steps.push({ out, reply, sentAt, isBackToBack: !this.isIdle && hasWork && this.hasLastSentWork, cause, sinceReplyMs: sentAt - this.lastReplyAt });
    this.hasLastSentWork = hasWork;
    this.isIdle = false;
  }

  /** Awaits the oldest step's reply and removes it (it counts until then); rejects with the step's fault. */
  async takeOldest(): Promise<{ step: SentStep; result: StepOutput; timing: StepTiming }> {
    const step = this.steps[0] as SentStep;
    let result: StepOutput;
    try {
      result = await step.reply;
    } finally {
      if (this.steps[0] === step) this.steps.shift();
    }
    const now = performance.now();
    const seconds = (now - Math.max(step.sentAt, this.lastReplyAt)) / 1000;
    this.lastReplyAt = now;
    const waitUs = result.timings.waitUs;
    return { step, result, timing: { seconds, waitSeconds: step.isBackToBack && waitUs !== undefined ? waitUs / 1e6 : undefined } };
  }

  /** Removes the oldest step without waiting (its reply is observed already). */
  dropOldest(): SentStep | undefined {
    return this.steps.shift();
  }

  /** The loop paused with nothing to run: the next step's wait is not a gap between steps. */
  markIdle(): void {
    this.isIdle = true;
    this.hasLastSentWork = false;
  }

  /** A recovery: every step sent is void (its sequences recompute on the new group). */
  clear(): void {
    this.steps.length = 0;
    this.markIdle();
  }
}
