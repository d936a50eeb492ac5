// Chained hashing of full KV blocks for automatic prefix caching. A block's hash covers its
// parent block's hash and its own token ids, so equal tokens after different prefixes differ.
// Pure and deterministic across processes. Tested by block-hash.spec.ts.

/** 64-bit block hash as 16 lowercase hex characters (two 32-bit lanes). */
export type BlockHash = string;

const PRIME_1 = 0x9e3779b1;
const PRIME_2 = 0x85ebca77;
const PRIME_3 = 0xc2b2ae3d;
const ROOT_LANE_1 = 0x811c9dc5;
const ROOT_LANE_2 = 0x27d4eb2f;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

// murmur3's 32-bit finalizer: spreads every input bit over the whole lane
function avalanche(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function toHex(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * Hash of one block: (parent hash or null for the first block, the block's token ids).
 * Not collision-free (64 bits): the pool also compares tokens and parent hash on every hit.
 */
export function hashBlockTokens(parent: BlockHash | null, tokens: readonly number[]): BlockHash {
  let h1 = parent === null ? ROOT_LANE_1 : parseInt(parent.slice(0, 8), 16) | 0;
  let h2 = parent === null ? ROOT_LANE_2 : parseInt(parent.slice(8, 16), 16) | 0;
  for (let i = 0; i < tokens.length; i++) {
    const k = Math.imul(tokens[i] | 0, PRIME_2);
    h1 = Math.imul(rotl((h1 + k) | 0, 13), PRIME_1);
    h2 = (Math.imul(rotl(h2 ^ k, 17), PRIME_3) + h1) | 0;
  }
  const a = avalanche(h1 ^ tokens.length);
  const b = avalanche(h2 ^ a);
  return toHex(a) + toHex(b);
}

/**
 * Extends `hashes` (the chained hashes of the first hashes.length full blocks of `tokens`) so it
 * covers every full block of `tokens`, but never more than `maxBlocks`. Tokens only ever grow
 * at the end, so a request can keep its hash list for its whole life.
 */
export function extendBlockHashes(
  hashes: BlockHash[],
  tokens: readonly number[],
  blockSize: number,
  maxBlocks = Infinity,
): void {
  const numFull = Math.min(Math.floor(tokens.length / blockSize), maxBlocks);
  for (let i = hashes.length; i < numFull; i++) {
    const parent = i === 0 ? null : hashes[i - 1];
    hashes.push(hashBlockTokens(parent, tokens.slice(i * blockSize, (i + 1) * blockSize)));
  }
}
