// The messages between the coordinator and its mask thread (mask-thread.ts), and the vocabulary
// packed into two typed arrays so it crosses to the thread as one copy (not 155K small arrays).
import type { GrammarRequest } from './grammar-request';
import { VocabIndex } from './vocab-index';

export interface PackedVocab {
  vocabSize: number;
  /** Every text token's bytes, concatenated in id order. */
  data: Uint8Array;
  /** Byte length of each id's token; -1 where it has none (added tokens, unused ids). */
  lengths: Int32Array;
  addedTokens: Array<[string, number]>;
}

export interface MaskThreadInit {
  vocab: PackedVocab;
  eosTokenIds: number[];
}

/** Compute the mask of the state that `symbols` (a matcher's journal) lead to in this grammar. */
export interface MaskJob {
  id: number;
  request: GrammarRequest;
  symbols: Int32Array;
  /** The matcher it came from: the thread resumes from its last replayed state. */
  stream: number;
}

export type MaskThreadReply =
  | { kind: 'ready'; indexMs: number }
  | { kind: 'mask'; id: number; bits: Uint32Array; computeMs: number }
  | { kind: 'error'; id: number; message: string };

export function packVocab(vocab: VocabIndex): PackedVocab {
  const lengths = new Int32Array(vocab.vocabSize).fill(-1);
  let total = 0;
  vocab.bytes.forEach((b, id) => {
    if (b) (lengths[id] = b.length), (total += b.length);
  });
  const data = new Uint8Array(total);
  let at = 0;
  for (const b of vocab.bytes) if (b) data.set(b, at), (at += b.length);
  return { vocabSize: vocab.vocabSize, data, lengths, addedTokens: [...vocab.addedTokens] };
}

export function unpackVocab(packed: PackedVocab): VocabIndex {
  const bytes: Array<Uint8Array | null> = new Array(packed.vocabSize).fill(null);
  let at = 0;
  for (let id = 0; id < packed.vocabSize; id++) {
    const n = packed.lengths[id];
    if (n >= 0) (bytes[id] = packed.data.subarray(at, at + n)), (at += n);
  }
  return new VocabIndex(packed.vocabSize, bytes, new Map(packed.addedTokens));
}
