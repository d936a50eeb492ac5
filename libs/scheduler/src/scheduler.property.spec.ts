// Property tests: seeded random arrivals, prompt lengths (with shared prefixes), priorities,
// deadlines and aborts over thousands of steps, against the FakeWorker (which checks the step
// contract and the KV contents). Invariants are checked after every step; at the end every
// request has finished, every block is free, and every output equals the fake model's answer.
// Each case also runs with async scheduling (step N+1 planned while N is unreported), and two
// steps ahead (N+2 planned while N and N+1 are unreported). The prefill cost budget cases feed a
// step-cost law back as the workers' step times.
import { describe, expect, it } from 'vitest';
import { ContextLengthExceededError, QueueFullError } from './errors';
import type { SchedulerConfig } from './scheduler-config';
import { stepWork } from './step-cost-model';
import { nextToken } from './testing/fake-worker';
import { Harness, VOCAB_SIZE } from './testing/harness';
import { checkInvariants, mulberry32 } from './testing/invariants';

const EOS = 0;

interface Admitted {
  prompt: number[];
  maxTokens: number;
  minTokens: number;
}

// independent of the scheduler: what the fake model says, with the same stop rules
function expectedOutput(a: Admitted, maxModelLen: number): number[] {
  const out: number[] = [];
  let last = a.prompt[a.prompt.length - 1];
  for (;;) {
    out.push((last = nextToken(last, VOCAB_SIZE)));
    if (last === EOS && out.length >= a.minTokens) return out;
    if (out.length >= a.maxTokens || a.prompt.length + out.length >= maxModelLen) return out;
  }
}

function runRandom(seed: number, over: Partial<SchedulerConfig>, numArrivalSteps: number) {
  const rng = mulberry32(seed);
  const int = (n: number): number => Math.floor(rng() * n);
  const tokens = (n: number): number[] => Array.from({ length: n }, () => 1 + int(VOCAB_SIZE - 1));
  // a step costs 1 ms + 10 µs per token + 0.5 µs per attention pair (the budget's model fits it)
  const seconds = (out: Parameters<typeof stepWork>[0]): number => 1e-3 + 1e-5 * stepWork(out).numTokens + 5e-7 * stepWork(out).numPairs;
  const h = new Harness({ eosTokenIds: [EOS], ...over }, over.maxPrefillStepRatio === undefined ? undefined : seconds);
  const { maxModelLen } = h.scheduler.config;
  const prefixes = [tokens(12), tokens(20), tokens(7), tokens(33)];
  const admitted = new Map<number, Admitted>();
  const preempted = new Set<number>();
  let nextId = 0;
  let numQueueFull = 0;
  const live = (): number[] => [...admitted.keys()].filter((id) => !h.finished.has(id));

  for (let step = 0; step < numArrivalSteps || h.scheduler.numUnfinishedRequests > 0 || h.hasUnreported; step++) {
    if (step > numArrivalSteps + 20_000) throw new Error(`seed ${seed}: not drained`);
    if (step < numArrivalSteps) {
      const arrivals = rng() < 0.3 ? 1 + int(3) : 0;
      for (let k = 0; k < arrivals; k++) {
        const prefix = rng() < 0.5 ? prefixes[int(prefixes.length)] : [];
        const tail = tokens(1 + (rng() < 0.1 ? int(maxModelLen) : int(24)));
        const a: Admitted = { prompt: [...prefix, ...tail], maxTokens: 1 + int(24), minTokens: rng() < 0.2 ? int(4) : 0 };
        const id = nextId++;
        try {
          h.scheduler.addRequest({
            requestId: id,
            promptTokens: a.prompt,
            samplingParams: { temperature: 0 },
            maxTokens: a.maxTokens,
            minTokens: a.minTokens,
            priority: int(3),
            deadlineMs: rng() < 0.05 ? step + 10 + int(200) : undefined,
            // a structured-output or forced-token request: never planned before its token is known
            isSpeculationAllowed: rng() >= 0.15,
          });
          admitted.set(id, a);
        } catch (e) {
          if (e instanceof QueueFullError) numQueueFull++;
          else if (!(e instanceof ContextLengthExceededError)) throw e;
        }
      }
      if (rng() < 0.02) {
        const ids = live();
        if (ids.length > 0) h.scheduler.abortRequest(ids[int(ids.length)]);
      }
    }
    h.step(step);
    for (const id of h.lastOutput?.preemptedIds ?? []) preempted.add(id);
    checkInvariants(h.scheduler, live(), h.lastOutput);
  }
  h.step(); // deliver the last forget ids

  expect(h.worker.numSequences).toBe(0);
  expect(h.scheduler.kvCache.numFreeBlocks).toBe(h.scheduler.config.numBlocks);
  checkInvariants(h.scheduler, [], null);
  const reasons: Record<string, number> = {};
  let numPreemptedCompleted = 0;
  for (const [id, a] of admitted) {
    const fin = h.finished.get(id);
    expect(fin, `request ${id} never finished`).toBeDefined();
    reasons[fin!.reason] = (reasons[fin!.reason] ?? 0) + 1;
    const got = h.outputs.get(id) ?? [];
    const want = expectedOutput(a, maxModelLen);
    if (fin!.reason === 'stop' || fin!.reason === 'length') {
      expect(got, `request ${id} (${fin!.reason})`).toEqual(want);
      if (preempted.has(id)) numPreemptedCompleted++;
    } else {
      expect(want.slice(0, got.length), `request ${id} (${fin!.reason})`).toEqual(got);
    }
  }
  return { reasons, numQueueFull, numPreemptedCompleted, numAdmitted: admitted.size, stats: h.scheduler.getStats() };
}

const common = { maxNumSeqs: 8, maxWaiting: 16, maxModelLen: 128 };
const CASES: Array<[string, Partial<SchedulerConfig>]> = [
  ['chunked prefill', { ...common, maxNumBatchedTokens: 32, enableChunkedPrefill: true, blockSize: 4, numBlocks: 28 }],
  ['long-prefill threshold, block size 2', { ...common, maxNumBatchedTokens: 24, enableChunkedPrefill: true, longPrefillTokenThreshold: 8, blockSize: 2, numBlocks: 50 }],
  ['no chunked prefill', { ...common, maxNumBatchedTokens: 128, enableChunkedPrefill: false, blockSize: 4, numBlocks: 30 }],
  ['no prefix caching, block size 8', { ...common, maxNumBatchedTokens: 40, enableChunkedPrefill: true, enablePrefixCaching: false, blockSize: 8, numBlocks: 14 }],
  ['prefill cost budget 1.5, block size 4', { ...common, maxNumBatchedTokens: 32, enableChunkedPrefill: true, maxPrefillStepRatio: 1.5, blockSize: 4, numBlocks: 28 }],
  ['prefill cost budget 1.1 with threshold, block size 2', { ...common, maxNumBatchedTokens: 24, enableChunkedPrefill: true, longPrefillTokenThreshold: 8, maxPrefillStepRatio: 1.1, blockSize: 2, numBlocks: 50 }],
  ['tiny budget, block size 1', { ...common, maxNumSeqs: 3, maxNumBatchedTokens: 5, enableChunkedPrefill: true, blockSize: 1, numBlocks: 110 }],
];
const SEEDS = [1, 2, 3];
const ALL_CASES = CASES.flatMap(([name, over]): Array<[string, Partial<SchedulerConfig>]> => [
  [name, over],
  [`${name}, async`, { ...over, asyncScheduling: true }],
  [`${name}, async 2 ahead`, { ...over, asyncScheduling: true, maxStepsAhead: 2 }],
]);

describe('Scheduler properties (seeded random runs)', () => {
  it.each(ALL_CASES.flatMap(([name, over]) => SEEDS.map((seed) => [name, seed, over] as const)))(
    '%s, seed %i: invariants hold every step and every request ends correctly',
    (_name, seed, over) => {
      const r = runRandom(seed, over, 2500);
      // the run must actually exercise what it claims to
      expect(r.numAdmitted).toBeGreaterThan(200);
      expect(r.stats.numPreemptions).toBeGreaterThan(0);
      expect(r.numPreemptedCompleted).toBeGreaterThan(0);
      expect(r.reasons.stop ?? 0).toBeGreaterThan(0);
      expect(r.reasons.length ?? 0).toBeGreaterThan(0);
      expect(r.reasons.abort ?? 0).toBeGreaterThan(0);
      if (over.enablePrefixCaching !== false) expect(r.stats.prefixCacheHitRate).toBeGreaterThan(0);
    },
  );

  it('is deterministic for a seed', () => {
    const over = CASES[0][1];
    expect(runRandom(7, over, 500)).toEqual(runRandom(7, over, 500));
  });
});
