// Pure logic of scripted checkpoints: script validation, the split of replies at added tokens and
// the choice of pieces (unique per chain, consistent across chains, shared suffixes shared).
import { describe, expect, it } from 'vitest';
import { seedOssAddedTokens } from './seed-oss-special-tokens';
import { splitReply, validateScripts, withEos } from './scripted-script';
import { assignPieceIds, buildScriptedTokenizerJson, planChains, textUnits, type ChainElement } from './scripted-tokenizer';

const ADDED = seedOssAddedTokens();
const plan = (replies: Record<string, string>, wordsPerPiece = 2): ChainElement[][] =>
  planChains(Object.entries(replies).map(([name, reply]) => ({ name, parts: splitReply(withEos(reply), ADDED) })), wordsPerPiece);
const keys = (chain: ChainElement[]): string[] => chain.map((e) => (e.kind === 'token' ? `#${e.id}` : e.text));

describe('validateScripts', () => {
  it('accepts {scripts: [...]} and keeps one trigger field', () => {
    expect(validateScripts({ scripts: [{ name: 'a', trigger: { tokenId: 5 }, reply: 'x' }] }))
      .toEqual([{ name: 'a', trigger: { tokenId: 5 }, reply: 'x' }]);
  });

  it.each([
    [{}, /at least one script/],
    [{ scripts: [{ name: '', trigger: { tokenId: 1 }, reply: 'x' }] }, /name must be a non-empty string/],
    [{ scripts: [{ name: 'a', trigger: {}, reply: 'x' }] }, /exactly one of afterText and tokenId/],
    [{ scripts: [{ name: 'a', trigger: { afterText: 'x', tokenId: 1 }, reply: 'x' }] }, /exactly one/],
    [{ scripts: [{ name: 'a', trigger: { tokenId: -1 }, reply: 'x' }] }, /tokenId must be a non-negative integer/],
    [{ scripts: [{ name: 'a', trigger: { tokenId: 1 }, reply: '' }] }, /reply must be a non-empty string/],
    [{ scripts: [{ name: 'a', trigger: { tokenId: 1 }, reply: 'x' }, { name: 'a', trigger: { tokenId: 2 }, reply: 'y' }] }, /used twice/],
  ])('rejects %j', (value, message) => {
    expect(() => validateScripts(value)).toThrow(message);
  });
});

describe('splitReply', () => {
  it('keeps the Seed-OSS tags at their ids and the text between them', () => {
    expect(splitReply('<seed:think>hm</seed:think>Hi<seed:eos>', ADDED)).toEqual([
      { kind: 'token', id: 3, content: '<seed:think>' }, { kind: 'text', text: 'hm' },
      { kind: 'token', id: 4, content: '</seed:think>' }, { kind: 'text', text: 'Hi' },
      { kind: 'token', id: 2, content: '<seed:eos>' },
    ]);
  });

  it('appends eos only when missing', () => {
    expect(withEos('a')).toBe('a<seed:eos>');
    expect(withEos('a<seed:eos>')).toBe('a<seed:eos>');
  });
});

describe('textUnits', () => {
  it('attaches leading whitespace to words and trailing whitespace to the last word', () => {
    expect(textUnits('\nfoo bar  baz\n', 's')).toEqual(['\nfoo', ' bar', '  baz\n']);
  });

  it('rejects whitespace-only text, which would need a bare "\\n" token', () => {
    expect(() => textUnits('\n', 's')).toThrow(/whitespace-only/);
  });
});

describe('planChains', () => {
  it('cuts text into pieces of a few words, ending with eos', () => {
    const [chain] = plan({ a: 'one two three four five' });
    expect(keys(chain)).toEqual(['one', ' two three', ' four five', '#2']);
  });

  it('makes every piece of a chain distinct even when the text repeats', () => {
    const [chain] = plan({ a: 'la la la la la la la la' }, 1);
    const texts = keys(chain).slice(0, -1);
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts.join('')).toBe('la la la la la la la la');
  });

  it('gives replies that end alike after a shared tag the same pieces there', () => {
    const [a, b] = plan({ a: '<seed:think>why</seed:think>The answer is 42.', b: 'No budget.</seed:think>The answer is 42.' });
    const afterA = keys(a).slice(keys(a).indexOf('#4'));
    expect(keys(b).slice(keys(b).indexOf('#4'))).toEqual(afterA);
  });

  it('keeps a piece used before another successor out of the next chain', () => {
    const [a, b] = plan({ a: 'same words here', b: 'same words there' }, 3);
    expect(keys(a)).toEqual(['same words here', '#2']);
    expect(keys(b)).toEqual(['same words there', '#2']);
    const [c, d] = plan({ c: 'alpha beta. gamma', d: 'alpha beta. delta' }, 2);
    const shared = keys(c).filter((k) => keys(d).includes(k) && k !== '#2');
    expect(shared).toEqual([]); // same text, different successors: never the same token
    expect(keys(d).join('')).toBe('alpha beta. delta#2');
  });

  it('rejects a tag twice in one reply, and replies that disagree after a shared tag', () => {
    expect(() => plan({ a: '<seed:think>x</seed:think><seed:think>y' })).toThrow(/occurs twice/);
    expect(() => plan({ a: 'x</seed:think>one', b: 'y</seed:think>two' })).toThrow(/followed by different text/);
  });
});

describe('scripted tokenizer.json', () => {
  it('appends the pieces as non-special, non-normalized added tokens after the base ids', () => {
    const chains = plan({ a: 'hello there world', b: '<seed:tool_call>x</seed:tool_call>' });
    const ids = assignPieceIds(chains, 1990);
    expect([...ids]).toEqual([['hello', 1990], [' there world', 1991], ['x', 1992]]);
    const base = { added_tokens: ADDED, model: { vocab: { a: 1989 } } };
    const json = buildScriptedTokenizerJson(base, ids);
    expect(json.added_tokens!.slice(-3)).toEqual([...ids].map(([content, id]) => ({
      id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false,
    })));
    expect(base.added_tokens).toHaveLength(128); // the base is not modified
  });
});
