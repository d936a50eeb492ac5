// buildStepInput with the real Scheduler: after a recompute preemption whose prefix-cache hit
// reaches past the prompt, the worker must get the whole token history (prompt + outputs) with
// the original prompt length, or its presence/frequency penalties miss the cached outputs.
import { describe, expect, it } from 'vitest';
import type { SamplingParams } from '../../../../libs/native/src/types';
import { Scheduler } from '../../../../libs/scheduler/src/scheduler';
import { buildStepInput } from './step-input-builder';

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

function scheduler(numBlocks: number): Scheduler<SamplingParams> {
  return new Scheduler<SamplingParams>({ maxNumBatchedTokens: 64, maxNumSeqs: 4, maxWaiting: 4, enableChunkedPrefill: true, blockSize: 4, numBlocks, maxModelLen: 64, enablePrefixCaching: true });
}

describe('buildStepInput', () => {
  it('sends prompt + outputs after a preemption that hits the prefix cache past the prompt', () => {
    const s = scheduler(5);
    // the older request (2) takes the last free block, so the newer one (1) is preempted with
    // two full, cached blocks (prompt + outputs); once 2 finishes, 1 comes back on them
    s.addRequest({ requestId: 2, promptTokens: range(4, 20), samplingParams: { temperature: 0 }, maxTokens: 6 });
    s.addRequest({ requestId: 1, promptTokens: range(4, 1), samplingParams: { temperature: 0, frequencyPenalty: 0.5 }, maxTokens: 20 });
    let next = 40;
    let wasPreempted = false;
    let out = s.schedule();
    for (let i = 0; i < 40; i++) {
      s.updateFromOutput(out, out.scheduled.filter((e) => e.sample).map((e) => ({ requestId: e.requestId, token: next++ })));
      out = s.schedule();
      wasPreempted ||= out.preemptedIds.includes(1);
      if (wasPreempted && out.newRequests.some((r) => r.requestId === 1)) break;
    }
    expect(wasPreempted).toBe(true);
    expect(out.newRequests.some((r) => r.requestId === 1)).toBe(true);
    const entry = out.scheduled.find((e) => e.requestId === 1)!;
    expect(entry.startPos).toBeGreaterThan(4); // the prefix-cache hit reaches into the outputs
    const input = buildStepInput(out, (id) => s.getRequest(id)?.allTokens);
    const seq = input.newSequences.find((n) => n.seqId === 1)!;
    const req = s.getRequest(1)!;
    expect(seq.numPromptTokens).toBe(4);
    expect(seq.promptTokens).toEqual([...range(4, 1), ...req.outputTokens]);
    expect(seq.promptTokens!.length).toBeGreaterThanOrEqual(entry.startPos + entry.tokens.length);
    // no penalties: no history travels
    expect(input.newSequences.find((n) => n.seqId === 2)?.promptTokens).toBeUndefined();
  });
});
