// Where the server's time went during a `tpserve bench` run, from two scrapes of its /metrics:
// the step histogram (tpserve_step_duration_seconds: the wall time of executor.step, i.e. gRPC
// fan-out + the workers' forward) against the run's wall time. What is not inside a step is the
// coordinator's own work between steps (scheduling, detokenization, SSE writes, HTTP) or idle.
import { METRIC } from '../../../../libs/metrics/src/metric-names';

export interface ServerStepStats {
  numSteps: number;
  /** Mean wall time of one executor.step (ms). */
  stepMs: number;
  /** Sum of step times / run duration: 1 means the engine never waited for the coordinator. */
  stepBusyFraction: number;
  /** (duration - time in steps) / steps: coordinator time (or idle) per step (ms). */
  gapMsPerStep: number;
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
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    numSteps,
    stepMs: r3((stepS * 1000) / numSteps),
    stepBusyFraction: r3(stepS / durationS),
    gapMsPerStep: r3(((durationS - stepS) * 1000) / numSteps),
    batchedTokensPerStep: r3(delta(before, after, `${METRIC.stepBatchedTokens}_sum`) / numSteps),
    outputTokensPerStep: r3(totalOutputTokens / numSteps),
  };
}
