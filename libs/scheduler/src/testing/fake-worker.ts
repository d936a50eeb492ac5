// Test support only: a fake worker that applies SchedulerOutputs the way a real rank would
// (sequence set, block tables, a paged "KV cache" that stores token ids per slot) and a fake
// model whose next token depends on the last one. It throws on any contract violation: unknown
// or duplicate sequences, an id both forgotten and new, gaps before startPos, missing blocks, or KV slots holding wrong tokens.

import type { SampledToken, SchedulerOutput } from '../scheduler-output';

/** The fake model: next token = (last * 31 + 7) % vocabSize. */
export function nextToken(last: number, vocabSize: number): number {
  return (last * 31 + 7) % vocabSize;
}

interface FakeSequence {
  blockTable: number[];
  numCached: number;
}

export class FakeWorker {
  private readonly seqs = new Map<number, FakeSequence>();
  private readonly kv: Array<Array<number | undefined>>;
  numSteps = 0;

  constructor(
    numBlocks: number,
    private readonly blockSize: number,
    private readonly vocabSize: number,
    /** The coordinator's view of every token of a sequence (undefined once it forgot it), to check the KV against. */
    private readonly tokensOf: (seqId: number) => readonly number[] | undefined,
  ) {
    this.kv = Array.from({ length: numBlocks }, () => new Array<number | undefined>(blockSize));
  }

  get numSequences(): number {
    return this.seqs.size;
  }

  step(out: SchedulerOutput<unknown>): SampledToken[] {
    // the contract leaves the order of forget and add open, so no id may be in both
    const forgotten = new Set(out.finishedIds);
    const both = out.newRequests.find((r) => forgotten.has(r.requestId));
    if (both !== undefined) throw new Error(`step ${out.stepId}: seq ${both.requestId} is both forgotten and new`);
    for (const id of out.finishedIds) {
      if (!this.seqs.delete(id)) throw new Error(`step ${out.stepId}: forget unknown seq ${id}`);
    }
    for (const r of out.newRequests) {
      if (this.seqs.has(r.requestId)) throw new Error(`step ${out.stepId}: seq ${r.requestId} is already known`);
      this.seqs.set(r.requestId, { blockTable: [], numCached: -1 });
    }
    const sampled: SampledToken[] = [];
    for (const s of out.scheduled) {
      const seq = this.seqs.get(s.requestId);
      if (seq === undefined) throw new Error(`step ${out.stepId}: scheduled unknown seq ${s.requestId}`);
      if (seq.numCached === -1) seq.numCached = s.startPos; // new: earlier positions are prefix hits
      if (s.startPos !== seq.numCached) throw new Error(`seq ${s.requestId}: startPos ${s.startPos} != ${seq.numCached}`);
      if (s.tokens.length === 0) throw new Error(`seq ${s.requestId}: empty chunk`);
      if (s.tokens.some((t) => t < 0)) throw new Error(`seq ${s.requestId}: unresolved placeholder in step ${out.stepId}`);
      seq.blockTable.push(...s.newBlockIds);
      s.tokens.forEach((t, i) => this.write(seq, s.startPos + i, t));
      seq.numCached += s.tokens.length;
      this.checkKv(s.requestId, seq);
      if (s.sample) sampled.push({ requestId: s.requestId, token: nextToken(s.tokens[s.tokens.length - 1], this.vocabSize) });
    }
    this.numSteps++;
    return sampled;
  }

  private slot(seq: FakeSequence, pos: number): [number, number] {
    const block = seq.blockTable[Math.floor(pos / this.blockSize)];
    if (block === undefined) throw new Error(`position ${pos} has no block (table ${seq.blockTable.length})`);
    return [block, pos % this.blockSize];
  }

  private write(seq: FakeSequence, pos: number, token: number): void {
    const [b, o] = this.slot(seq, pos);
    this.kv[b][o] = token;
  }

  // attention reads every earlier position: each must hold this sequence's token
  private checkKv(seqId: number, seq: FakeSequence): void {
    const truth = this.tokensOf(seqId);
    if (truth === undefined) return; // async: finished by the coordinator after this step was sent
    for (let p = 0; p < seq.numCached; p++) {
      const [b, o] = this.slot(seq, p);
      if (this.kv[b][o] !== truth[p]) {
        throw new Error(`seq ${seqId}: KV at position ${p} (block ${b}) holds ${this.kv[b][o]}, expected ${truth[p]}`);
      }
    }
  }
}
