// One request's position in its grammar: reads the generated tokens one at a time and gives the
// mask of the next step. Once the value is complete only eos is left (or eos and what may still
// extend it, such as more digits of a top-level number). The symbols read so far are journaled,
// so another thread can replay the same state from the same grammar (mask-thread.ts).
// Tests: grammar-matcher.spec.ts.
import { advance, advanceBytes, isComplete, stateKey, type StateSet } from './automaton';
import type { CompiledGrammar } from './compiled-grammar';
import { SYMBOL_BASE } from './grammar-node';
import type { TokenMask } from './token-mask';

export class GrammarMatcher {
  private state: StateSet;
  private ended = false;
  /** Every symbol the state advanced by, in order (bytes, and SYMBOL_BASE + id for whole tags). */
  private readonly symbols: number[] = [];
  private key: string | undefined;

  constructor(readonly grammar: CompiledGrammar) {
    this.state = grammar.initialState();
  }

  /** Whether the output so far is a whole value. */
  get isComplete(): boolean {
    return isComplete(this.state);
  }

  /** Whether eos was accepted (nothing may follow). */
  get isEnded(): boolean {
    return this.ended;
  }

  /** The tokens allowed next (computed here on a cache miss). */
  mask(): TokenMask {
    return this.grammar.mask(this.state);
  }

  /** The key of the state, under which the grammar caches its mask (computed once per state). */
  get stateKey(): string {
    return (this.key ??= stateKey(this.state));
  }

  /** The mask of the state if the grammar has it cached, else undefined (nothing is computed). */
  cachedMask(): TokenMask | undefined {
    return this.grammar.cachedMask(this.stateKey);
  }

  /** The symbols read so far (replayed from the grammar's initial state, they give this state). */
  get journal(): readonly number[] {
    return this.symbols;
  }

  /**
   * Reads text the prompt already holds (a forced opening) as UTF-8 bytes: a tokenizer may hold
   * added tokens there that the grammar knows only as text. false (state unchanged) if refused.
   */
  acceptText(text: string): boolean {
    if (this.ended) return false;
    const bytes = new TextEncoder().encode(text);
    const next = advanceBytes(this.state, bytes);
    if (next.length === 0) return false;
    this.state = next;
    this.key = undefined;
    this.symbols.push(...bytes);
    return true;
  }

  /** Reads a generated token; false (state unchanged) when the grammar does not allow it. */
  acceptToken(id: number): boolean {
    if (this.grammar.eosTokenIds.includes(id)) {
      if (this.ended) return true; // more eos (ignore_eos): the value stays whole
      if (!this.isComplete) return false;
      this.ended = true;
      return true;
    }
    if (this.ended) return false;
    const bytes = this.grammar.vocab.bytes[id];
    let next = bytes ? advanceBytes(this.state, bytes) : [];
    if (next.length > 0) {
      this.symbols.push(...bytes!);
    } else if (this.grammar.symbols.includes(id)) {
      next = advance(this.state, SYMBOL_BASE + id);
      if (next.length > 0) this.symbols.push(SYMBOL_BASE + id);
    }
    if (next.length === 0) return false;
    this.state = next;
    this.key = undefined;
    return true;
  }
}
