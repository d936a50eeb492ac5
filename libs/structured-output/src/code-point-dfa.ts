// A string constraint (pattern subset, or a format) as a lazily built DFA over code points:
// the regex AST becomes a Thompson NFA, and DFA states (epsilon-closed NFA state sets) are made
// on first use and interned, so a string frame's state is one small integer. JSON Schema patterns
// search (unanchored) unless they start with ^ / end with $. Tests: code-point-dfa.spec.ts.
import { ANY_CHAR, parseRegex, type CodePointRange, type RegexAst } from './regex-parser';

/** The DFA state that accepts nothing more (no continuation can match). */
export const DEAD_STATE = -1;
const MAX_NFA_STATES = 20_000;

interface NfaState {
  eps: number[];
  ranges: CodePointRange[] | null;
  next: number;
}

export class CodePointDfa {
  private readonly nfa: NfaState[] = [];
  private readonly acceptState: number;
  private readonly startState: number;
  private readonly stateIds = new Map<string, number>();
  private readonly stateSets: number[][] = [];
  private readonly accepting: boolean[] = [];
  private readonly transitions: Array<Map<number, number>> = [];

  constructor(ast: RegexAst) {
    const frag = this.build(ast);
    this.acceptState = this.add({ eps: [], ranges: null, next: -1 });
    this.patch(frag.outs, this.acceptState);
    this.startState = this.intern(this.closure([frag.start]));
  }

  /** A JSON Schema `pattern` (throws UnsupportedRegexError outside the subset). */
  static fromPattern(pattern: string): CodePointDfa {
    const { ast, anchoredStart, anchoredEnd } = parseRegex(pattern);
    const anyRun: RegexAst = { kind: 'repeat', item: ANY_CHAR, min: 0, max: Infinity };
    const items = [...(anchoredStart ? [] : [anyRun]), ast, ...(anchoredEnd ? [] : [anyRun])];
    return new CodePointDfa({ kind: 'concat', items });
  }

  get start(): number {
    return this.startState;
  }

  isAccepting(state: number): boolean {
    return state !== DEAD_STATE && this.accepting[state];
  }

  /** Whether some code point in [lo, hi] leads out of `state` (a partial UTF-8 character's range). */
  canStepInRange(state: number, lo: number, hi: number): boolean {
    if (state === DEAD_STATE) return false;
    return this.stateSets[state].some((s) => this.nfa[s].ranges?.some(([a, b]) => a <= hi && b >= lo) ?? false);
  }

  step(state: number, codePoint: number): number {
    if (state === DEAD_STATE) return DEAD_STATE;
    const cached = this.transitions[state].get(codePoint);
    if (cached !== undefined) return cached;
    const moved: number[] = [];
    for (const s of this.stateSets[state]) {
      const ranges = this.nfa[s].ranges;
      if (ranges && ranges.some(([lo, hi]) => codePoint >= lo && codePoint <= hi)) moved.push(this.nfa[s].next);
    }
    const next = moved.length === 0 ? DEAD_STATE : this.intern(this.closure(moved));
    this.transitions[state].set(codePoint, next);
    return next;
  }

  private add(state: NfaState): number {
    if (this.nfa.length >= MAX_NFA_STATES) throw new RangeError('pattern is too large to compile');
    this.nfa.push(state);
    return this.nfa.length - 1;
  }

  private patch(outs: number[], target: number): void {
    for (const o of outs) this.nfa[o].eps.push(target);
  }

  /** Fragment: entry state and the states whose exit still has to be connected. */
  private build(ast: RegexAst): { start: number; outs: number[] } {
    switch (ast.kind) {
      case 'set': {
        // the exit is an epsilon state, so every `outs` entry can be patched more than once
        const exit = this.add({ eps: [], ranges: null, next: -1 });
        const s = this.add({ eps: [], ranges: ast.ranges, next: exit });
        return { start: s, outs: [exit] };
      }
      case 'concat': {
        if (ast.items.length === 0) {
          const s = this.add({ eps: [], ranges: null, next: -1 });
          return { start: s, outs: [s] };
        }
        const frags = ast.items.map((item) => this.build(item));
        for (let i = 0; i + 1 < frags.length; i++) this.patch(frags[i].outs, frags[i + 1].start);
        return { start: frags[0].start, outs: frags[frags.length - 1].outs };
      }
      case 'alt': {
        const frags = ast.items.map((item) => this.build(item));
        const s = this.add({ eps: frags.map((f) => f.start), ranges: null, next: -1 });
        return { start: s, outs: frags.flatMap((f) => f.outs) };
      }
      case 'repeat': {
        const entry = this.add({ eps: [], ranges: null, next: -1 });
        let outs = [entry];
        for (let i = 0; i < ast.min; i++) {
          const f = this.build(ast.item);
          this.patch(outs, f.start);
          outs = f.outs;
        }
        if (ast.max === Infinity) {
          const loop = this.add({ eps: [], ranges: null, next: -1 });
          this.patch(outs, loop);
          const f = this.build(ast.item);
          this.nfa[loop].eps.push(f.start);
          this.patch(f.outs, loop);
          return { start: entry, outs: [loop] };
        }
        const exits = [...outs];
        for (let i = ast.min; i < ast.max; i++) {
          const f = this.build(ast.item);
          this.patch(outs, f.start);
          outs = f.outs;
          exits.push(...outs);
        }
        return { start: entry, outs: exits };
      }
    }
  }

  private closure(states: number[]): number[] {
    const seen = new Set<number>();
    const stack = [...states];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(...this.nfa[s].eps);
    }
    return [...seen].filter((s) => this.nfa[s].ranges !== null || s === this.acceptState).sort((a, b) => a - b);
  }

  private intern(set: number[]): number {
    const key = set.join(',');
    let id = this.stateIds.get(key);
    if (id === undefined) {
      id = this.stateSets.length;
      this.stateIds.set(key, id);
      this.stateSets.push(set);
      this.accepting.push(set.includes(this.acceptState));
      this.transitions.push(new Map());
    }
    return id;
  }
}
