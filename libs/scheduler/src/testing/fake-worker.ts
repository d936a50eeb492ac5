// Test support only: a fake worker that applies SchedulerOutputs the way a real rank would
// (sequence set, block tables, a paged "KV cache" that stores token ids per slot) and a fake
// model whose next token depends on the last one. Like a real rank it remembers the last token it
// sampled for each sequence and puts it in place of a placeholder (async scheduling sends step
// N+1 before N's reply). It throws on any contract violation: unknown or duplicate sequences, an
// id both forgotten and new, gaps before startPos, missing blocks, a placeholder where it sampled
// nothing, or KV slots holding wrong tokens.

import { PLACEHOLDER_TOKEN, type SampledToken, type SchedulerOutput } from '../scheduler-output';

/** The fake model: next token = (last * 31 + 7) % vocabSize. */
export function nextToken(last: number, vocabSize: number): number {
  return (last * 31 + 7) % vocabSize;
}

interface FakeSequence {
  blockTable: number[];
  numCached: number;
  /** The last token sampled for it and its position (-1: none). */
  sampledPos: number;
  sampledToken: number;
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
      this.seqs.set(r.requestId, { blockTable: [], numCached: -1, sampledPos: -1, sampledToken: -1 });
    }
    const sampled: SampledToken[] = [];
    for (const s of out.scheduled) {
      const seq = this.seqs.get(s.requestId);
      if (seq === undefined) throw new Error(`step ${out.stepId}: scheduled unknown seq ${s.requestId}`);
      if (seq.numCached === -1) seq.numCached = s.startPos; // new: earlier positions are prefix hits
      if (s.startPos !== seq.numCached) throw new Error(`seq ${s.requestId}: startPos ${s.startPos} != ${seq.numCached}`);
      if (s.tokens.length === 0) throw new Error(`seq ${s.requestId}: empty chunk`);
      const tokens = s.tokens.map((t, i) => this.resolve(s.requestId, seq, s.startPos + i, t));
      seq.blockTable.push(...s.newBlockIds);
      tokens.forEach((t, i) => this.write(seq, s.startPos + i, t));
      seq.numCached += tokens.length;
      this.checkKv(s.requestId, seq);
      if (s.sample) {
        const token = nextToken(tokens[tokens.length - 1], this.vocabSize);
        [seq.sampledPos, seq.sampledToken] = [seq.numCached, token];
        sampled.push({ requestId: s.requestId, token });
      }
    }
    this.numSteps++;
    return sampled;
  }

  private resolve(seqId: number, seq: FakeSequence, pos: number, token: number): number {
    if (token !== PLACEHOLDER_TOKEN) return token;
    if (seq.sampledPos !== pos) throw new Error(`seq ${seqId}: placeholder at ${pos} but its last sample is at ${seq.sampledPos}`);
    return seq.sampledToken;
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
