// The scheduler with maxPrefillStepRatio, against the FakeWorker with a known step-cost law fed
// back as the workers' step times: once fitted, every step carrying a long prompt's chunk costs at
// most ratio × its decodes alone (true cost, not the model's), the prompt still finishes, each
// step moving it by at least one token, and its outputs are the fake model's. Sync, async one
// and two steps ahead.
import { describe, expect, it } from 'vitest';
import type { SchedulerOutput } from './scheduler-output';
import { COST_WINDOW, MIN_COST_SAMPLES, stepWork } from './step-cost-model';
import { Harness, range, referenceOutput } from './testing/harness';

const LAW = { perStep: 0.01, perToken: 1e-5, perPair: 2e-8 };
const trueSeconds = (out: Pick<SchedulerOutput<unknown>, 'scheduled'>): number => {
  const w = stepWork(out);
  return LAW.perStep + LAW.perToken * w.numTokens + LAW.perPair * w.numPairs;
};
const CONFIG = { maxNumBatchedTokens: 512, maxNumSeqs: 8, maxWaiting: 8, blockSize: 4, numBlocks: 4500, maxModelLen: 8192 };
const LONG = 7000;

/** 4 streams decode; then a `long`-token prompt arrives. Returns every step's decisions. */
function run(ratio: number | undefined, ahead: number, long = LONG) {
  const h = new Harness({ ...CONFIG, maxPrefillStepRatio: ratio, asyncScheduling: ahead > 0, maxStepsAhead: Math.max(1, ahead) }, trueSeconds);
  for (let i = 0; i < 4; i++) h.add(i, range(8, 1 + i), { maxTokens: 2500 }); // they decode past the end of the prefill
  for (let i = 0; i < COST_WINDOW + 20; i++) h.step(); // the streams' own prefill chunks leave the cost window
  const prompt = range(long).map((i) => 1 + (i % 40));
  h.add(100, prompt, { maxTokens: 2 });
  const steps: Array<{ chunk: number; start: number; decodes: number; ratio: number }> = [];
  let numStalls = 0; // steps while the prompt was still being computed that did not advance it
  for (let i = 0; i < 2000 && !h.finished.has(100); i++) {
    h.step();
    const out = h.lastOutput!;
    const chunk = out.scheduled.find((e) => e.requestId === 100 && e.tokens.length > 1);
    const decodes = out.scheduled.filter((e) => e.tokens.length === 1);
    const entry = out.scheduled.find((e) => e.requestId === 100);
    if (entry === undefined && (h.scheduler.getRequest(100)?.numScheduledTokens ?? long) < long) numStalls++;
    if (chunk !== undefined) steps.push({ chunk: chunk.tokens.length, start: chunk.startPos, decodes: decodes.length, ratio: trueSeconds(out) / trueSeconds({ scheduled: decodes }) });
  }
  h.report();
  return { h, steps, prompt, numStalls };
}

describe.each([0, 1, 2])('Scheduler prefill cost budget (%i steps ahead)', (ahead) => {
  it('keeps each prefill step within the ratio of its decodes alone, and the prompt finishes', () => {
    const ratio = 1.5;
    const { h, steps, prompt, numStalls } = run(ratio, ahead);
    expect(numStalls).toBe(0); // never starves: every step advanced it
    expect(h.finished.get(100)?.reason).toBe('length');
    expect(h.outputs.get(100)).toEqual(referenceOutput(prompt, 2));
    expect(h.scheduler.getStats().numPreemptions).toBe(0);
    expect(steps[0].start + steps.reduce((a, s) => a + s.chunk, 0)).toBe(LONG); // after its prefix hit (stream 0's prompt)
    for (const s of steps) {
      expect(s.decodes).toBe(4);
      // past the model's warm-up every chunk keeps the true cost within the ratio
      if (steps.indexOf(s) > MIN_COST_SAMPLES) expect(s.ratio).toBeLessThanOrEqual(ratio * (1 + 1e-6));
    }
    // the budget does bind: the chunk shrinks as the context grows (attention pairs)
    const mid = steps.filter((s) => s.start > 1000 && s.start < 2000);
    const late = steps.filter((s) => s.start > 6000);
    expect(Math.max(...late.map((s) => s.chunk))).toBeLessThan(Math.min(...mid.map((s) => s.chunk)));
  });

  it('without the budget the same prompt takes full chunks and breaks the ratio', () => {
    const { steps } = run(undefined, ahead);
    expect(Math.max(...steps.map((s) => s.chunk))).toBe(CONFIG.maxNumBatchedTokens - 4);
    expect(Math.max(...steps.map((s) => s.ratio))).toBeGreaterThan(3);
  });

  it('a ratio too tight for any chunk still moves the prompt one token per step', () => {
    const { h, steps, numStalls } = run(1.0001, ahead, 600);
    expect(numStalls).toBe(0);
    expect(h.finished.get(100)?.reason).toBe('length');
    expect(h.scheduler.getStats().numPreemptions).toBe(0);
    expect(steps).toEqual([]); // no entry of the prompt ever had more than one token
    expect(h.outputs.get(100)).toHaveLength(2);
  });
});
