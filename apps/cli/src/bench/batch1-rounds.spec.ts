// bench:engine's interleaved batch-1 rounds: each round's floor from its own probe, speed-ups
// within a round, medians over rounds (hand-computed values).
// Run: npx vitest run apps/cli/src/bench/batch1-rounds.spec.ts
import { describe, expect, it } from 'vitest';
import { floorMs } from './bandwidth-floor';
import { summarizeBatch1Rounds, type Batch1Round } from './batch1-rounds';

const MB = 1e6;

describe('batch-1 rounds', () => {
  it('is the bytes at the measured bandwidth', () => {
    expect(floorMs(400 * MB, 50)).toBeCloseTo(8, 12); // 400 MB at 50 GB/s
  });

  it('takes each round against its own probe and the baseline of its own round', () => {
    // Round 1 is a slow minute (40 GB/s) for both formats, round 2 fast (80), round 3 between.
    const rounds: Batch1Round[] = [
      { bandwidthGBps: 40, stepMs: { bf16: 12.5, int4: 4 }, synchronousStepMs: { bf16: 13, int4: 4.5 } },
      { bandwidthGBps: 80, stepMs: { bf16: 6.25, int4: 2.5 }, synchronousStepMs: { bf16: 7, int4: 3 } },
      { bandwidthGBps: 50, stepMs: { bf16: 10, int4: 3 }, synchronousStepMs: { bf16: 11, int4: 3.5 } },
    ];
    const s = summarizeBatch1Rounds(rounds, { bf16: 400 * MB, int4: 100 * MB }, 'bf16');
    // bf16 floors 10, 5, 8 ms: 80 %, 80 %, 80 %
    expect(s.bf16.percentOfFloor).toBeCloseTo(80, 9);
    expect(s.bf16.percentOfFloorRange[0]).toBeCloseTo(80, 9);
    expect(s.bf16.stepMs).toBe(10);
    expect(s.bf16.synchronousStepMs).toBe(11);
    expect(s.bf16.speedupOverBaseline).toBe(1);
    // int4 floors 2.5, 1.25, 2 ms: 62.5 %, 50 %, 66.7 %; speed-ups 3.125, 2.5, 3.333
    expect(s.int4.percentOfFloor).toBeCloseTo(62.5, 9);
    expect(s.int4.percentOfFloorRange[0]).toBeCloseTo(50, 9);
    expect(s.int4.percentOfFloorRange[1]).toBeCloseTo(200 / 3, 9);
    expect(s.int4.speedupOverBaseline).toBeCloseTo(3.125, 9);
    expect(s.int4.speedupOverBaselineRange?.[0]).toBeCloseTo(2.5, 9);
    expect(s.int4.speedupOverBaselineRange?.[1]).toBeCloseTo(10 / 3, 9);
    // one probe for all (the first round's 40 GB/s) would have put bf16 at 160 % in round 2
  });

  it('gives no speed-up without its baseline, and refuses a round missing a format', () => {
    const rounds: Batch1Round[] = [{ bandwidthGBps: 50, stepMs: { int8: 5 }, synchronousStepMs: { int8: 5 } }];
    expect(summarizeBatch1Rounds(rounds, { int8: 200 * MB }, 'bf16').int8.speedupOverBaseline).toBeUndefined();
    expect(() => summarizeBatch1Rounds(rounds, { int8: 200 * MB, int4: MB }, 'bf16')).toThrow(/no time for 'int4'/);
    expect(() => summarizeBatch1Rounds([], { int8: 1 })).toThrow(/no rounds/);
  });
});
