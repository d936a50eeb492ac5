// encodeStepRequest: the bytes written on every rank's StepStream decode, with the worker's own
// deserializer, to the StepRequest the coordinator built (one encoding serves all ranks).
import { describe, expect, it } from 'vitest';
import { encodeStepRequest, loadWorkerService } from './proto-loader';
import { stepInputFromProto, stepInputToProto } from './step-codec';

describe('encodeStepRequest', () => {
  it('round-trips a mixed step through the worker-side deserializer', () => {
    const input = {
      stepId: 42,
      newSequences: [{ seqId: 7, params: { temperature: 0.5, seed: 3 }, numPromptTokens: 3, promptTokens: [5, 6, 7] }],
      scheduled: [
        { seqId: 7, tokens: [5, 6, 7], startPos: 0, newBlockIds: [4], sample: true },
        { seqId: 2, tokens: [99], startPos: 40, newBlockIds: [], sample: true },
      ],
      finished: [1, 3],
    };
    const bytes = encodeStepRequest(stepInputToProto(input));
    expect(Buffer.isBuffer(bytes)).toBe(true);
    const decoded = stepInputFromProto(loadWorkerService().service.StepStream.requestDeserialize(bytes));
    expect(decoded).toMatchObject({ stepId: 42, finished: [1, 3], scheduled: input.scheduled });
    expect(decoded.newSequences[0]).toMatchObject({ seqId: 7, numPromptTokens: 3, promptTokens: [5, 6, 7] });
  });
});
