// whyNothingPlanned on a real Scheduler (async, one step ahead): an empty plan behind a running
// step is blamed on the sequences' last tokens, on a constrained sequence waiting for its token,
// or on nothing being there to plan (a later arrival).
import { describe, expect, it } from 'vitest';
import type { SamplingParams } from '../../../../libs/native/src/types';
import { Scheduler } from '../../../../libs/scheduler/src/scheduler';
import { whyNothingPlanned } from './step-send-cause';

function scheduler(): Scheduler<SamplingParams> {
  return new Scheduler<SamplingParams>({ maxNumBatchedTokens: 64, maxNumSeqs: 4, maxWaiting: 4, enableChunkedPrefill: true, blockSize: 4, numBlocks: 32, maxModelLen: 64, asyncScheduling: true });
}

const add = (s: Scheduler<SamplingParams>, requestId: number, maxTokens: number, isSpeculationAllowed = true): void => {
  s.addRequest({ requestId, promptTokens: [1, 2, 3], samplingParams: { temperature: 0 }, maxTokens, isSpeculationAllowed });
};

describe('whyNothingPlanned', () => {
  it('names the last tokens when every running sequence samples its last one in the step ahead', () => {
    const s = scheduler();
    add(s, 1, 1);
    expect(s.schedule().scheduled).toHaveLength(1); // the prompt, sampling the one token allowed
    expect(s.schedule().scheduled).toHaveLength(0);
    expect(whyNothingPlanned(s, [1])).toBe('last_tokens');
  });

  it('names the reply when a constrained sequence waits for its token', () => {
    const s = scheduler();
    add(s, 1, 8, false);
    add(s, 2, 1);
    expect(s.schedule().scheduled).toHaveLength(2);
    expect(s.schedule().scheduled).toHaveLength(0);
    expect(whyNothingPlanned(s, [1, 2])).toBe('needs_reply');
  });

  it('names a later arrival when nothing runs or waits', () => {
    const s = scheduler();
    expect(whyNothingPlanned(s, [])).toBe('late_arrival');
  });
});
