// Converts a SchedulerOutput into the step contract's StepInput shape (libs/native/src/types.ts,
// proto/worker.proto) without importing it: the shapes are structural twins, checked in
// step-input.spec.ts. Request ids are the workers' seqIds.

import type { SchedulerOutput } from './scheduler-output';

export interface StepInputShape<P> {
  stepId: number;
  newSequences: Array<{ seqId: number; params: P; numPromptTokens: number }>;
  scheduled: Array<{ seqId: number; tokens: number[]; startPos: number; newBlockIds: number[]; sample: boolean }>;
  finished: number[];
}

/** The step to send to every rank. No id is both in `finished` and in `newSequences` of one step. */
export function toStepInput<P>(out: SchedulerOutput<P>): StepInputShape<P> {
  return {
    stepId: out.stepId,
    newSequences: out.newRequests.map((r) => ({ seqId: r.requestId, params: r.samplingParams, numPromptTokens: r.numPromptTokens })),
    scheduled: out.scheduled.map((s) => ({
      seqId: s.requestId,
      tokens: s.tokens,
      startPos: s.startPos,
      newBlockIds: s.newBlockIds,
      sample: s.sample,
    })),
    finished: out.finishedIds,
  };
}
