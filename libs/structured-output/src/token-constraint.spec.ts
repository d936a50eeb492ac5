// The constraint's phases: free thinking, then the grammar; the grammar from the first token
// when the reply does not open a think block; eos only once the value is complete.
import { describe, expect, it } from 'vitest';
import { GrammarCompiler } from './grammar-compiler';
import { GrammarMatcher } from './grammar-matcher';
import type { MaskSource } from './mask-source';
import { TokenConstraint } from './token-constraint';
import { EOS_ID, syntheticVocab } from '../test/synthetic-vocab';

const vocab = syntheticVocab();
const THINK = { thinkStart: 1, thinkEnd: 2 }; // the synthetic vocabulary's tag ids stand in
const byte = (ch: string): number => 3 + ch.charCodeAt(0); // single-byte tokens follow the 3 added ids
const allows = (mask: Uint32Array | undefined, id: number): boolean => mask === undefined || ((mask[id >>> 5] >>> (id & 31)) & 1) === 1;

function constraint(startsInReasoning = false): TokenConstraint {
  const grammar = new GrammarCompiler(vocab, [EOS_ID]).compile({ kind: 'json_schema', schema: { type: 'boolean' } });
  return new TokenConstraint(new GrammarMatcher(grammar), THINK, startsInReasoning);
}

describe('TokenConstraint', () => {
  it('lets the reply open a think block, leaves it free, then holds the answer to the grammar', () => {
    const c = constraint();
    const first = c.mask();
    expect(allows(first, THINK.thinkStart)).toBe(true);
    expect(allows(first, byte('t'))).toBe(true);
    expect(allows(first, byte('x'))).toBe(false);
    c.onToken(THINK.thinkStart);
    expect(c.mask()).toBeUndefined();
    c.onToken(byte('x'));
    c.onToken(THINK.thinkEnd);
    expect(allows(c.mask(), byte('x'))).toBe(false);
    expect(allows(c.mask(), byte('f'))).toBe(true);
    for (const ch of 'fals') c.onToken(byte(ch));
    expect(allows(c.mask(), EOS_ID)).toBe(false);
    c.onToken(byte('e'));
    expect([...new Uint32Array(c.mask()!)].reduce((n, w) => n + w.toString(2).split('1').length - 1, 0)).toBe(1);
    expect(allows(c.mask(), EOS_ID)).toBe(true);
  });

  it('constrains from the first token when the reply does not think, and thinks when the prompt opened the block', () => {
    const c = constraint();
    c.onToken(byte('t'));
    expect(allows(c.mask(), THINK.thinkStart)).toBe(false);
    expect(constraint(true).mask()).toBeUndefined();
  });

  it('is left unconstrained when a token the grammar refuses is forced', () => {
    const c = constraint();
    c.onToken(byte('x'));
    expect(c.isBroken).toBe(true);
    expect(c.mask()).toBeUndefined();
  });

  it('is ready while thinking and when the source has the mask; mask() never waits for a source that has not', () => {
    let isCached = false;
    const asked: string[] = [];
    const source: MaskSource = {
      maskIfReady: (m) => (asked.push(m.stateKey), isCached ? m.mask() : undefined),
      maskNow: (m) => m.mask(),
    };
    const grammar = new GrammarCompiler(vocab, [EOS_ID]).compile({ kind: 'json_schema', schema: { type: 'boolean' } });
    const c = new TokenConstraint(new GrammarMatcher(grammar), THINK, false, source);
    expect(c.isReady()).toBe(false);
    expect(asked.length).toBe(1); // asking started the computation
    expect(allows(c.mask(), byte('t'))).toBe(true); // computed here rather than a wrong mask
    expect(allows(c.mask(), byte('x'))).toBe(false);
    c.onToken(THINK.thinkStart);
    expect(c.isReady()).toBe(true); // free text needs no mask
    c.onToken(THINK.thinkEnd);
    expect(c.isReady()).toBe(false);
    isCached = true;
    expect(c.isReady()).toBe(true);
  });
});
