// Checks that a SchedulerOutput converts to the native StepInput (type-level: the assignment
// below must compile against libs/native/src/types.ts) and carries every field across.
import { describe, expect, it } from 'vitest';
import { PLACEHOLDER_TOKEN as NATIVE_PLACEHOLDER_TOKEN, type SamplingParams, type StepInput } from '../../native/src/types';
import { PLACEHOLDER_TOKEN } from './scheduler-output';
import { Scheduler } from './scheduler';
import { toStepInput } from './step-input';
import { BASE_CONFIG, range } from './testing/harness';

describe('toStepInput', () => {
  it('maps requests to sequences, field by field', () => {
    const s = new Scheduler<SamplingParams>({ ...BASE_CONFIG, maxNumBatchedTokens: 8 });
    s.addRequest({ requestId: 7, promptTokens: range(10), samplingParams: { temperature: 0.5, seed: 3 } });
    const step: StepInput = toStepInput(s.schedule());
    expect(step).toEqual<StepInput>({
      stepId: 0,
      newSequences: [{ seqId: 7, params: { temperature: 0.5, seed: 3 }, numPromptTokens: 10 }],
      scheduled: [{ seqId: 7, tokens: range(8), startPos: 0, newBlockIds: [0, 1], sample: false }],
      finished: [],
    });
  });

  it('uses the native contract\'s placeholder token', () => {
    expect(PLACEHOLDER_TOKEN).toBe(NATIVE_PLACEHOLDER_TOKEN);
  });
});
