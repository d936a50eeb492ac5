// The structured-output mask on the wire (proto TokenMask): the coordinator's bitmask sent as a
// list of allowed ids when that is smaller (structural positions allow a handful of tokens), as
// the raw bitmask otherwise (free text allows most of the vocabulary), and rebuilt on the worker.
// Tests: token-mask-codec.spec.ts.

export interface ProtoTokenMask {
  numWords?: number;
  allowedTokens?: number[];
  bitmask?: Buffer | Uint8Array;
}

function popcount(words: Uint32Array): number {
  let n = 0;
  for (let w of words) for (; w !== 0; w &= w - 1) n++;
  return n;
}

export function tokenMaskToProto(bits: Uint32Array): ProtoTokenMask {
  if (popcount(bits) < bits.length) {
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
