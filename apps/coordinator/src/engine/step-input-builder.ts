// SchedulerOutput → the step contract's StepInput: the scheduler's own conversion, plus the
// prompt tokens of new sequences whose penalties need the whole prompt (so prefix-cache hits are
// still penalised), and each constrained sample's allowed-token mask (structured outputs). No
// logits are requested: the server only samples.
import type { SamplingParams, StepInput } from '../../../../libs/native/src/types';
import type { SchedulerOutput } from '../../../../libs/scheduler/src/scheduler-output';
import { toStepInput } from '../../../../libs/scheduler/src/step-input';
import type { SequenceRequest } from './engine-request';

function needsPromptTokens(p: SamplingParams): boolean {
  return (p.repetitionPenalty ?? 1) !== 1 || (p.presencePenalty ?? 0) !== 0 || (p.frequencyPenalty ?? 0) !== 0;
}

export function buildStepInput(out: SchedulerOutput<SamplingParams>, requestOf: (id: number) => SequenceRequest | undefined): StepInput {
  const step = toStepInput(out);
  return {
    ...step,
    newSequences: step.newSequences.map((s) => {
      const prompt = needsPromptTokens(s.params) ? requestOf(s.seqId)?.promptTokens : undefined;
      return prompt ? { ...s, promptTokens: prompt } : s;
    }),
    scheduled: step.scheduled.map((s) => {
      const mask = s.sample ? requestOf(s.seqId)?.constraint?.mask() : undefined;
      return mask ? { ...s, tokenBitmask: mask } : s;
    }),
  };
}
