// Where the server's time went during a `tpserve bench` run, from two scrapes of its /metrics:
// the step histogram (tpserve_step_duration_seconds: the time each step held the workers) against
// the run's wall time, and the time between steps as the workers measure it
// (tpserve_step_wait_seconds: how long a rank sat idle before a step it had to wait for; with
// async scheduling the next step is usually queued already). Run time minus summed step times
// is kept as the coordinator's share per step (it also counts idle time with no request).
import { METRIC } from '../../../../libs/metrics/src/metric-names';
import { type StepGapStats, stepGapStats } from './step-gap-stats';

export interface ServerStepStats {
  numSteps: number;
  /** Mean wall time of one executor.step (ms). */
  stepMs: number;
  /** Sum of step times / run duration: 1 means the engine never waited for the coordinator. */
  stepBusyFraction: number;
  /** Mean time the workers waited between two steps, as they measured it (ms). */
  gapMsPerStep: number;
  /** The same wait's median, p99, share under 0.1 ms and split by cause (undefined: not exported). */
  gap?: StepGapStats;
  /** (duration - time in steps) / steps: coordinator time (or idle) per step (ms). */
  outsideStepsMsPerStep: number;
  batchedTokensPerStep: number;
  /** Output tokens / steps: the batch size actually decoded. */
  outputTokensPerStep: number;
}

function delta(before: Map<string, number>, after: Map<string, number>, name: string): number {
  return (after.get(name) ?? 0) - (before.get(name) ?? 0);
}

/** undefined when the server has no step histogram (not tpserve, or metrics off). */
export function serverStepStats(
  before: Map<string, number> | undefined,
  after: Map<string, number> | undefined,
  durationS: number,
  totalOutputTokens: number,
): ServerStepStats | undefined {
  if (!before || !after) return undefined;
  const numSteps = delta(before, after, `${METRIC.stepDurationSeconds}_count`);
  if (!(numSteps > 0)) return undefined;
  const stepS = delta(before, after, `${METRIC.stepDurationSeconds}_sum`);
  const r3 = (x: number): number => Math.round(x * 10000) / 10000;
  return {
    numSteps,
    stepMs: r3((stepS * 1000) / numSteps),
    stepBusyFraction: r3(stepS / durationS),
    gapMsPerStep: r3((delta(before, after, `${METRIC.stepWaitSeconds}_sum`) * 1000) / Math.max(1, delta(before, after, `${METRIC.stepWaitSeconds}_count`))),
    gap: stepGapStats(before, after),
    outsideStepsMsPerStep: r3(((durationS - stepS) * 1000) / numSteps),
    batchedTokensPerStep: r3(delta(before, after, `${METRIC.stepBatchedTokens}_sum`) / numSteps),
    outputTokensPerStep: r3(totalOutputTokens / numSteps),
  };
}
