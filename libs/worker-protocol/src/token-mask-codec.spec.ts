// The mask survives the proto round trip in both forms, each form is chosen by size, and a mask
// shared by sequences of one step travels once.
import { describe, expect, it } from 'vitest';
import { loadWorkerService } from './proto-loader';
import { stepInputFromProto, stepInputToProto } from './step-codec';
import { tokenMaskFromProto, tokenMaskToProto } from './token-mask-codec';

function maskOf(numWords: number, ids: number[]): Uint32Array {
  const bits = new Uint32Array(numWords);
  for (const id of ids) bits[id >>> 5] |= 1 << (id & 31);
  return bits;
}

describe('token mask codec', () => {
  it('sends few allowed ids as a list and many as the bitmask', () => {
    const few = maskOf(10, [0, 31, 32, 319]);
    const sparse = tokenMaskToProto(few);
    expect(sparse.allowedTokens).toEqual([0, 31, 32, 319]);
    expect(tokenMaskFromProto(sparse)).toEqual(few);
    const many = maskOf(10, Array.from({ length: 300 }, (_, i) => i));
    const dense = tokenMaskToProto(many);
    expect(dense.allowedTokens).toBeUndefined();
    expect(dense.bitmask!.length).toBe(40);
    expect(tokenMaskFromProto(dense)).toEqual(many);
  });

  it('takes the list exactly when fewer ids than words are allowed (random masks, naive count)', () => {
    let seed = 9;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    for (let k = 0; k < 200; k++) {
      const numWords = 1 + Math.floor(rand() * 40);
      const density = rand() < 0.5 ? rand() * 0.05 : rand();
      const ids = Array.from({ length: numWords * 32 }, (_, i) => i).filter(() => rand() < density);
      const proto = tokenMaskToProto(maskOf(numWords, ids));
      expect(proto.allowedTokens !== undefined, `${ids.length} ids in ${numWords} words`).toBe(ids.length < numWords);
      expect(tokenMaskFromProto(proto)).toEqual(maskOf(numWords, ids));
    }
    expect(tokenMaskToProto(maskOf(4, [1, 2, 3])).allowedTokens).toEqual([1, 2, 3]);
    expect(tokenMaskToProto(maskOf(4, [1, 2, 3, 4])).allowedTokens).toBeUndefined();
  });

  it('round-trips through the serialised StepRequest message', () => {
    const step = loadWorkerService().service.Step;
    const wire = (req: ReturnType<typeof stepInputToProto>) => stepInputFromProto(step.requestDeserialize(step.requestSerialize(req)) as never);
    const bits = maskOf(4, [3, 70, 127]);
    const dense = maskOf(4, Array.from({ length: 100 }, (_, i) => i + 20));
    const sched = { seqId: 1, tokens: [1], startPos: 0, newBlockIds: [], sample: true };
    const input = { stepId: 1, newSequences: [], finished: [], scheduled: [{ ...sched, tokenBitmask: bits }, { ...sched, seqId: 2, tokenBitmask: dense }, { ...sched, seqId: 3 }] };
    const back = wire(stepInputToProto(input));
    expect(back.scheduled[0].tokenBitmask).toEqual(bits);
    expect(back.scheduled[1].tokenBitmask).toEqual(dense);
    expect(back.scheduled[2].tokenBitmask).toBeUndefined();
  });

  it('sends a mask shared by several sequences once per step', () => {
    const step = loadWorkerService().service.Step;
    const shared = maskOf(4, Array.from({ length: 90 }, (_, i) => i * 1.4 | 0));
    const other = maskOf(4, [5]);
    const sched = { tokens: [1], startPos: 0, newBlockIds: [], sample: true };
    const input = { stepId: 3, newSequences: [], finished: [], scheduled: [1, 2, 3, 4].map((seqId) => ({ ...sched, seqId, tokenBitmask: seqId === 3 ? other : shared })) };
    const proto = stepInputToProto(input);
    expect(proto.tokenMasks).toHaveLength(2);
    expect(proto.scheduled!.map((s) => s.tokenMaskRef)).toEqual([1, 1, 2, 1]);
    const back = stepInputFromProto(step.requestDeserialize(step.requestSerialize(proto)) as never);
    expect(back.scheduled.map((s) => [...s.tokenBitmask!])).toEqual([shared, shared, other, shared].map((m) => [...m]));
    expect(() => stepInputFromProto({ stepId: 1, scheduled: [{ seqId: 1, sample: true, tokenMaskRef: 2 }], tokenMasks: [] })).toThrow(/token mask ref 2 of 0 masks/);
  });
});
