// The mask against a naive reference: at states met along random walks, a token is allowed
// exactly when feeding its bytes (or its symbol) to the automaton leaves a live state; eos
// exactly when the value is complete. Covers the sorted-vocabulary walk and the plain-string path.
import { describe, expect, it } from 'vitest';
import { advance, advanceBytes, isComplete, type StateSet } from './automaton';
import { GrammarCompiler, type GrammarRequest } from './grammar-compiler';
import { SYMBOL_BASE } from './grammar-node';
import { computeMask } from './token-mask';
import { mulberry32 } from '../../tiny-model/src/seeded-random';
import { EOS_ID, syntheticVocab } from '../test/synthetic-vocab';

const vocab = syntheticVocab();

const REQUESTS: GrammarRequest[] = [
  { kind: 'json_object' },
  { kind: 'json_schema', schema: { type: 'object', properties: { s: { type: 'string', maxLength: 4 }, t: { type: 'string' } }, required: ['s', 't'] } },
  { kind: 'json_schema', schema: { type: 'array', items: { type: 'string', pattern: '^[a-c]+$' } } },
  { kind: 'tool_call', tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] } }] },
];

describe('computeMask', () => {
  it.each(REQUESTS.map((r) => [r.kind, r] as const))('matches the naive reference (%s)', (_kind, request) => {
    const grammar = new GrammarCompiler(vocab, [EOS_ID]).compile(request);
    const rand = mulberry32(11);
    for (let walk = 0; walk < 8; walk++) {
      let state: StateSet = grammar.initialState();
      for (let step = 0; step < 40 && state.length > 0; step++) {
        const mask = computeMask(state, vocab, { symbols: grammar.symbols, eosTokenIds: [EOS_ID] });
        const expected: number[] = [];
        for (let id = 0; id < vocab.vocabSize; id++) {
          const bytes = vocab.bytes[id];
          const ok = id === EOS_ID ? isComplete(state) : bytes ? advanceBytes(state, bytes).length > 0
            : grammar.symbols.includes(id) && advance(state, SYMBOL_BASE + id).length > 0;
          if (ok) expected.push(id);
        }
        expect([...mask.ids()]).toEqual(expected);
        const next = expected.filter((id) => id !== EOS_ID);
        if (next.length === 0) break;
        const id = next[Math.floor(rand() * next.length)];
        state = vocab.bytes[id] ? advanceBytes(state, vocab.bytes[id]!) : advance(state, SYMBOL_BASE + id);
      }
    }
  });

  it('caches the mask of a state and reuses it', () => {
    const grammar = new GrammarCompiler(vocab, [EOS_ID]).compile({ kind: 'json_schema', schema: { type: 'string' } });
    const s = advanceBytes(grammar.initialState(), new TextEncoder().encode('"ab'));
    const t = advanceBytes(grammar.initialState(), new TextEncoder().encode('"xyz'));
    expect(grammar.mask(s)).toBe(grammar.mask(t)); // same key: unbounded string, no pending escape
    expect(grammar.numMaskHits).toBe(1);
  });
});
