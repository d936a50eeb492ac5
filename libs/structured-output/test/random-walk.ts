// Test helper: a "random model" that picks any allowed token at every step (structural tokens a
// little more often, so values end), through the real matcher (seed it with tiny-model's mulberry32).
import type { CompiledGrammar } from '../src/compiled-grammar';
import { GrammarMatcher } from '../src/grammar-matcher';

export interface Walk {
  text: string;
  ended: boolean;
  numTokens: number;
}

const STRUCTURAL = new Set([0x22, 0x5d, 0x7d, 0x2c, 0x3a, 0x3c, 0x0a]);

export function randomWalk(grammar: CompiledGrammar, rand: () => number, maxTokens = 300): Walk {
  const matcher = new GrammarMatcher(grammar);
  const vocab = grammar.vocab;
  const symbolText = new Map([...vocab.addedTokens].map(([text, id]) => [id, text]));
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  let n = 0;
  for (; n < maxTokens && !matcher.isEnded; n++) {
    const allowed = [...matcher.mask().ids()];
    if (allowed.length === 0) throw new Error(`dead end after ${JSON.stringify(new TextDecoder().decode(concat(parts)))}`);
    const eos = allowed.filter((id) => grammar.eosTokenIds.includes(id));
    const structural = allowed.filter((id) => vocab.bytes[id]?.some((b) => STRUCTURAL.has(b)) || symbolText.has(id));
    const r = rand();
    const pool = eos.length > 0 && r < 0.3 ? eos : structural.length > 0 && r < 0.6 ? structural : allowed;
    const id = pool[Math.floor(rand() * pool.length)];
    if (!matcher.acceptToken(id)) throw new Error(`matcher refused token ${id} its own mask allowed`);
    if (!grammar.eosTokenIds.includes(id)) parts.push(vocab.bytes[id] ?? enc.encode(symbolText.get(id)!));
  }
  return { text: new TextDecoder('utf-8', { fatal: true }).decode(concat(parts)), ended: matcher.isEnded, numTokens: n };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}
