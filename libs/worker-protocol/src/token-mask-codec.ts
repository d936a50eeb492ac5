// The structured-output mask on the wire (proto TokenMask): the coordinator's bitmask sent as a
// list of allowed ids when that is smaller (structural positions allow a handful of tokens), as
// the raw bitmask otherwise (free text allows most of the vocabulary), and rebuilt on the worker.
// Tests: token-mask-codec.spec.ts.

export interface ProtoTokenMask {
  numWords?: number;
  allowedTokens?: number[];
  bitmask?: Buffer | Uint8Array;
}

/** Whether fewer than `limit` bits are set (counts word by word, stops at the limit: a free-text mask of 155K ids costs ~150 words, not 140K bit steps). */
function hasFewerBitsThan(words: Uint32Array, limit: number): boolean {
  let n = 0;
  for (let i = 0; i < words.length && n < limit; i++) {
    let w = words[i] - ((words[i] >>> 1) & 0x55555555);
    w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
    n += (((w + (w >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return n < limit;
}

export function tokenMaskToProto(bits: Uint32Array): ProtoTokenMask {
  if (hasFewerBitsThan(bits, bits.length)) {
    const allowed: number[] = [];
    for (let i = 0; i < bits.length; i++) {
      for (let w = bits[i]; w !== 0; w &= w - 1) allowed.push(i * 32 + (31 - Math.clz32(w & -w)));
    }
    return { numWords: bits.length, allowedTokens: allowed };
  }
  return { numWords: bits.length, bitmask: Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength) };
}

export function tokenMaskFromProto(mask: ProtoTokenMask): Uint32Array {
  const numWords = mask.numWords ?? 0;
  const bits = new Uint32Array(numWords);
  const bytes = mask.bitmask;
  if (bytes && bytes.length > 0) {
    if (bytes.length !== numWords * 4) throw new Error(`token mask: ${bytes.length} bytes for ${numWords} words`);
    new Uint8Array(bits.buffer).set(bytes);
    return bits;
  }
  for (const id of mask.allowedTokens ?? []) {
    if (id < 0 || id >= numWords * 32) throw new Error(`token mask: id ${id} outside ${numWords} words`);
    bits[id >>> 5] |= 1 << (id & 31);
  }
  return bits;
}
