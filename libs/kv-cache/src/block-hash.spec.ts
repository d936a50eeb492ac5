// Unit tests of the chained block hash: determinism, chaining, sensitivity, incremental hashing.
import { describe, expect, it } from 'vitest';
import { extendBlockHashes, hashBlockTokens } from './block-hash';

describe('hashBlockTokens', () => {
  it('is deterministic and 16 hex chars', () => {
    const h = hashBlockTokens(null, [1, 2, 3, 4]);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(hashBlockTokens(null, [1, 2, 3, 4])).toBe(h);
  });

  it.each([
    ['a token changes', [1, 2, 3, 5]],
    ['order changes', [2, 1, 3, 4]],
    ['length changes', [1, 2, 3]],
    ['a zero is appended', [1, 2, 3, 4, 0]],
  ])('differs when %s', (_name, other) => {
    expect(hashBlockTokens(null, other)).not.toBe(hashBlockTokens(null, [1, 2, 3, 4]));
  });

  it('chains over the parent: equal tokens after different prefixes differ', () => {
    const pa = hashBlockTokens(null, [1, 1]);
    const pb = hashBlockTokens(null, [2, 2]);
    expect(hashBlockTokens(pa, [7, 7])).not.toBe(hashBlockTokens(pb, [7, 7]));
    expect(hashBlockTokens(pa, [7, 7])).not.toBe(hashBlockTokens(null, [7, 7]));
  });

  it('has no collisions over 20k small blocks', () => {
    const seen = new Set<string>();
    for (let a = 0; a < 200; a++) for (let b = 0; b < 100; b++) seen.add(hashBlockTokens(null, [a, b]));
    expect(seen.size).toBe(20_000);
  });
});

describe('extendBlockHashes', () => {
  it('hashes full blocks only, incrementally, up to maxBlocks', () => {
    const tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const hashes: string[] = [];
    extendBlockHashes(hashes, tokens, 4, 1);
    expect(hashes).toHaveLength(1);
    extendBlockHashes(hashes, tokens, 4);
    expect(hashes).toHaveLength(2); // the partial third block is not hashed
    expect(hashes[0]).toBe(hashBlockTokens(null, [1, 2, 3, 4]));
    expect(hashes[1]).toBe(hashBlockTokens(hashes[0], [5, 6, 7, 8]));
  });
});
