// SchedulerOutput → the step contract's StepInput. New sequences carry their sampling params
// (vocabLimit set at submit) and, when a penalty needs the whole prompt, the prompt tokens (so
// prefix-cache hits are still penalised). No logits are requested: the server only samples.
import type { StepInput } from '../../../../libs/native/src/types';
import type { SchedulerOutput } from '../../../../libs/scheduler/src/scheduler-output';
import type { SamplingParams } from '../../../../libs/native/src/types';
import type { SequenceRequest } from './engine-request';

function needsPromptTokens(p: SamplingParams): boolean {
  return (p.repetitionPenalty ?? 1) !== 1 || (p.presencePenalty ?? 0) !== 0 || (p.frequencyPenalty ?? 0) !== 0;
}

export function buildStepInput(out: SchedulerOutput<SamplingParams>, requestOf: (id: number) => SequenceRequest | undefined): StepInput {
  return {
    stepId: out.stepId,
    newSequences: out.newRequests.map((r) => {
      const prompt = needsPromptTokens(r.samplingParams) ? requestOf(r.requestId)?.promptTokens : undefined;
      return { seqId: r.requestId, params: r.samplingParams, numPromptTokens: r.numPromptTokens, ...(prompt ? { promptTokens: prompt } : {}) };
    }),
    scheduled: out.scheduled.map((s) => ({
      seqId: s.requestId,
      tokens: s.tokens,
      startPos: s.startPos,
      newBlockIds: s.newBlockIds,
      sample: s.sample,
      logits: 'none' as const,
    })),
    finished: out.finishedIds,
  };
}
