// SchedulerOutput → the step contract's StepInput: the scheduler's own conversion, plus the
// tokens so far of new sequences whose penalties need them: the prompt, and after a preemption
// or a recovery also the outputs already generated, so prefix-cache hits (past the prompt too)
// are still penalised and presence/frequency counts match a run without the recompute. No
// logits are requested: the server only samples. Tests: step-input-builder.spec.ts.
import type { SamplingParams, StepInput } from '../../../../libs/native/src/types';
import type { SchedulerOutput } from '../../../../libs/scheduler/src/scheduler-output';
import { toStepInput } from '../../../../libs/scheduler/src/step-input';

function needsTokenHistory(p: SamplingParams): boolean {
  return (p.repetitionPenalty ?? 1) !== 1 || (p.presencePenalty ?? 0) !== 0 || (p.frequencyPenalty ?? 0) !== 0;
}

/** `tokensOf(id)`: the scheduler's prompt + outputs of a live request (Request.allTokens). */
export function buildStepInput(out: SchedulerOutput<SamplingParams>, tokensOf: (id: number) => readonly number[] | undefined): StepInput {
  const step = toStepInput(out);
  return {
    ...step,
    newSequences: step.newSequences.map((s) => {
      const tokens = needsTokenHistory(s.params) ? tokensOf(s.seqId) : undefined;
      return tokens ? { ...s, promptTokens: tokens.slice() } : s;
    }),
  };
}
