// MaskThread on a real worker_threads thread (the compiled dist/ script, built by `npm test`):
// a miss answers undefined at once and the mask arrives from the thread; along random walks over
// json_object, a tool call and generated schemas every mask equals the one computed on this
// thread by an independent compiler; sequences in the same state share one job; warm-up fills the
// cache; after the thread is closed, misses are computed here (never a wrong or missing mask).
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findRepoRoot } from '../../native/src/addon';
import { mulberry32 } from '../../tiny-model/src/seeded-random';
import { generateSchema } from '../test/schema-corpus';
import { EOS_ID, syntheticVocab } from '../test/synthetic-vocab';
import { GrammarCompiler, type GrammarRequest } from './grammar-compiler';
import { GrammarMatcher } from './grammar-matcher';
import { MaskThread } from './mask-thread-client';
import type { TokenMask } from './token-mask';

const SCRIPT = path.join(findRepoRoot(), 'dist', 'libs', 'structured-output', 'src', 'mask-thread.js');
const vocab = syntheticVocab();
const compiler = new GrammarCompiler(vocab, [EOS_ID]);
const reference = new GrammarCompiler(syntheticVocab(), [EOS_ID]); // computes every mask on this thread
const errors: string[] = [];
const masks = new MaskThread(vocab, [EOS_ID], SCRIPT, (m) => errors.push(m));
afterAll(() => masks.close());

async function maskOf(matcher: GrammarMatcher): Promise<TokenMask> {
  for (let i = 0; i < 2000; i++) {
    const mask = masks.maskIfReady(matcher);
    if (mask !== undefined) return mask;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('no mask from the thread after 4 s');
}

const REQUESTS: GrammarRequest[] = [
  { kind: 'json_object' },
  { kind: 'tool_call', tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] } }] },
  // pattern / format strings: their DFA states are numbered as discovered, so the two sides' keys differ
  { kind: 'json_schema', schema: { type: 'object', properties: { p: { type: 'string', pattern: '^[a-z]{2,8}-[0-9]{2,4}$' }, d: { type: 'string', format: 'date' } }, required: ['p', 'd'] } },
  ...Array.from({ length: 6 }, (_, i) => ({ kind: 'json_schema', schema: generateSchema(mulberry32(100 + i)) }) as GrammarRequest),
];

describe('MaskThread', () => {
  it('answers a miss later, from the thread, without computing it here', async () => {
    await masks.ready;
    const grammar = compiler.compile({ kind: 'json_schema', schema: { type: 'array', items: { type: 'boolean' } } });
    const matcher = new GrammarMatcher(grammar);
    expect(masks.maskIfReady(matcher)).toBeUndefined();
    const jobs = masks.stats.numJobs;
    const mask = await maskOf(matcher);
    expect(masks.stats.numJobs).toBe(jobs + 1);
    expect(grammar.numMaskMisses).toBe(0); // nothing was walked on this thread
    expect([...mask.bits]).toEqual([...new GrammarMatcher(reference.compile(grammar.request!)).mask().bits]);
  });

  it.each(REQUESTS.map((r, i) => [i, r] as const))('gives the masks this thread would compute along random walks (request %i)', async (_i, request) => {
    const grammar = compiler.compile(request);
    const rand = mulberry32(7);
    for (let walk = 0; walk < 3; walk++) {
      const matcher = new GrammarMatcher(grammar), mirror = new GrammarMatcher(reference.compile(request));
      for (let step = 0; step < 40 && !matcher.isEnded; step++) {
        const mask = await maskOf(matcher);
        expect([...mask.bits]).toEqual([...mirror.mask().bits]);
        const ids = mask.ids();
        const id = ids[Math.floor(rand() * ids.length)];
        expect(matcher.acceptToken(id) && mirror.acceptToken(id)).toBe(true);
      }
    }
    expect(errors).toEqual([]);
    expect(masks.isFallback).toBe(false);
  });

  it('sends one job for sequences in the same state, and warm-up fills the cache', async () => {
    const grammar = compiler.compile({ kind: 'json_schema', schema: { type: 'object', properties: { n: { type: 'integer' } } } });
    const a = new GrammarMatcher(grammar), b = new GrammarMatcher(grammar);
    const jobs = masks.stats.numJobs;
    expect(masks.maskIfReady(a)).toBeUndefined();
    expect(masks.maskIfReady(b)).toBeUndefined();
    await maskOf(b);
    expect(masks.stats.numJobs).toBe(jobs + 1);
    const warmed = compiler.compile({ kind: 'json_schema', schema: { type: 'array', items: { type: 'integer' } } });
    masks.warm(warmed, ['', ' [', '[', '[1']); // ' [' is refused (compact JSON): skipped, no fault
    for (let i = 0; i < 2000 && masks.stats.numJobs < jobs + 4; i++) await new Promise((r) => setTimeout(r, 2));
    const m = new GrammarMatcher(warmed);
    expect(masks.maskIfReady(m)).toBeDefined();
    expect(m.acceptText('[1')).toBe(true);
    expect(masks.maskIfReady(m)).toBeDefined();
    expect(masks.isFallback).toBe(false);
    expect(errors).toEqual([]);
  });

  it('computes misses on this thread once the thread is gone', async () => {
    const own = new MaskThread(vocab, [EOS_ID], SCRIPT);
    await own.close();
    expect(own.isFallback).toBe(true);
    const matcher = new GrammarMatcher(compiler.compile({ kind: 'json_schema', schema: { type: 'string', maxLength: 3 } }));
    expect([...own.maskIfReady(matcher)!.bits]).toEqual([...new GrammarMatcher(reference.compile({ kind: 'json_schema', schema: { type: 'string', maxLength: 3 } })).mask().bits]);
  });
});
