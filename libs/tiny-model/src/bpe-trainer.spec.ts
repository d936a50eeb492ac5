// The BPE trainer on hand-checkable inputs: most frequent pair first, ties to the smaller id pair.
import { describe, expect, it } from 'vitest';
import { trainBpe } from './bpe-trainer';
import { BYTE_TO_CHAR, toByteLevel } from './byte-level-alphabet';
import { preTokenize } from './seed-oss-pre-tokenizer';

describe('trainBpe', () => {
  it('merges the most frequent pair first and stops at the target size', () => {
    const { vocab, merges } = trainBpe(['ab', 'ab', 'ab', 'bc', 'bc'], ['a', 'b', 'c'], 5);
    expect(merges).toEqual([['a', 'b'], ['b', 'c']]);
    expect([...vocab]).toEqual([['a', 0], ['b', 1], ['c', 2], ['ab', 3], ['bc', 4]]);
  });

  it('breaks count ties by the smaller (left, right) id pair', () => {
    const { merges } = trainBpe(['cd', 'ab'], ['a', 'b', 'c', 'd'], 5);
    expect(merges).toEqual([['a', 'b']]);
  });

  it('builds longer tokens from earlier merges and stops when nothing is left to merge', () => {
    const { vocab, merges } = trainBpe(['abc', 'abc', 'abd'], ['a', 'b', 'c', 'd'], 100);
    expect(merges[0]).toEqual(['a', 'b']);
    expect(merges[1]).toEqual(['ab', 'c']);
    expect(vocab.get('abd')).toBeDefined();
    expect(vocab.size).toBe(7);
  });

  it('rejects characters outside the initial alphabet', () => {
    expect(() => trainBpe(['x'], ['a'], 10)).toThrow(/not in the initial alphabet/);
  });
});

describe('byte-level alphabet', () => {
  it('maps space and newline as GPT-2 does and is a bijection', () => {
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ');
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0x41]).toBe('A');
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(toByteLevel('é')).toBe('Ã©');
  });
});

describe('preTokenize', () => {
  it('isolates contractions, letters with one leading non-letter, single digits and newlines', () => {
    expect(preTokenize("I'm 42, OK?\n\nYes")).toEqual(['I', "'m", ' ', '4', '2', ',', ' OK', '?', '\n\n', 'Yes']);
  });
});
