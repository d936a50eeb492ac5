// Batch-1 decode of several weight formats measured in interleaved rounds (bench:engine --rounds):
// each round probes the memory read bandwidth and then times every format once, so a format's
// percentage of the bandwidth floor uses the probe of its own minute and its speed-up over bf16
// compares two runs a few seconds apart. On a host whose bandwidth moves with its neighbours'
// load (the shared 2-core machine read 50-77 GB/s within an hour) one probe at the start and one
// format after the other let the drift decide the ratios. The summary takes the median round.
import { floorMs } from './bandwidth-floor';
import { percentile } from './serving-stats';

export interface Batch1Round {
  bandwidthGBps: number;
  /** format → mean ms per decode step, steps sent ahead as the server sends them. */
  stepMs: Record<string, number>;
  /** format → mean ms per decode step, each step waiting for the reply before it. */
  synchronousStepMs: Record<string, number>;
}

export interface Batch1Summary {
  /** Medians over the rounds. */
  stepMs: number;
  synchronousStepMs: number;
  percentOfFloor: number;
  /** Lowest and highest round. */
  percentOfFloorRange: [number, number];
  /** Median over the rounds of (baseline's step ms / this format's) in the same round; absent without a baseline. */
  speedupOverBaseline?: number;
  speedupOverBaselineRange?: [number, number];
}

const median = (xs: number[]): number => percentile(xs, 50);
const range = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];

/**
 * Per format: the medians of its rounds, its percentage of the floor round by round, and its
 * speed-up over `baseline` within each round. `bytesPerToken` names every format of the rounds.
 */
export function summarizeBatch1Rounds(rounds: readonly Batch1Round[], bytesPerToken: Record<string, number>, baseline?: string): Record<string, Batch1Summary> {
  if (rounds.length === 0) throw new Error('summarizeBatch1Rounds: no rounds');
  const out: Record<string, Batch1Summary> = {};
  for (const format of Object.keys(bytesPerToken)) {
    const steps = rounds.map((r) => r.stepMs[format]);
    if (steps.some((s) => !(s > 0))) throw new Error(`summarizeBatch1Rounds: a round has no time for '${format}'`);
    const percents = rounds.map((r) => (floorMs(bytesPerToken[format], r.bandwidthGBps) / r.stepMs[format]) * 100);
    const summary: Batch1Summary = {
      stepMs: median(steps),
      synchronousStepMs: median(rounds.map((r) => r.synchronousStepMs[format])),
      percentOfFloor: median(percents),
      percentOfFloorRange: range(percents),
    };
    if (baseline !== undefined && bytesPerToken[baseline] !== undefined) {
      const speedups = rounds.map((r) => r.stepMs[baseline] / r.stepMs[format]);
      summary.speedupOverBaseline = median(speedups);
      summary.speedupOverBaselineRange = range(speedups);
    }
    out[format] = summary;
  }
  return out;
}
