// A JSON string (or a raw Seed tool-call string parameter) being matched byte by byte: UTF-8 is
// decoded and checked as it arrives (no overlong forms, no surrogates), JSON escapes other than
// \uXXXX are taken, and every code point is counted (ajv counts code points) and run through the
// pattern/format DFA. No accepted prefix is a dead end: a code point that would leave the string
// unable to finish (past maxLength, or at maxLength with the pattern unmatched) is refused.
// Raw mode: no quotes, no escapes, no '<' (it would start `</parameter>`), and never the text
// "null" in any case (the Seed parser reads that as JSON null). Tests: automaton.spec.ts.
import { DEAD_STATE } from './code-point-dfa';
import { DONE, NONE, replaceWith, type Frame, type Move } from './frame';
import type { GrammarNode, StringSpec } from './grammar-node';

type StringNode = GrammarNode & { kind: 'string' };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const ESCAPES: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };
const NULL_TEXT = 'null';

interface StringState {
  open: boolean;       // quoted mode: the opening quote was read
  count: number;       // code points so far
  escaped: boolean;    // after a backslash
  need: number;        // UTF-8 continuation bytes still expected
  lo: number;          // allowed range of the next continuation byte
  hi: number;
  acc: number;         // code point being decoded
  dfa: number;         // pattern DFA state (0 when there is none)
  keyText: string | null; // text so far while it is a prefix of an excluded key
  nullPos: number;     // raw mode: length of the "null" prefix matched so far, -1 once it differs
}

export class StringFrame implements Frame {
  readonly key: string;

  private constructor(private readonly node: StringNode, private readonly s: StringState) {
    const spec = node.spec;
    const count = Number.isFinite(spec.maxLength) ? s.count : Math.min(s.count, spec.minLength);
    const utf8 = s.need > 0 ? `${s.need}.${s.lo}.${s.hi}.${s.acc}` : '';
    this.key = `T${node.id}.${s.open ? 1 : 0}.${count}.${s.escaped ? 1 : 0}.${utf8}.${s.dfa}.${s.keyText ?? ''}.${s.nullPos}`;
  }

  static begin(node: StringNode): StringFrame {
    const spec = node.spec;
    return new StringFrame(node, {
      open: spec.raw, count: 0, escaped: false, need: 0, lo: 0, hi: 0, acc: 0,
      dfa: spec.dfa ? spec.dfa.start : 0,
      keyText: spec.excluded && spec.excluded.size > 0 ? '' : null,
      nullPos: spec.raw ? 0 : -1,
    });
  }

  get spec(): StringSpec {
    return this.node.spec;
  }

  /**
   * Code points a run of plain text (no quote, backslash, '<', control byte or partial UTF-8) may
   * still add here, or null when plain text is not uniformly accepted in this state.
   */
  plainTextBudget(): number | null {
    const s = this.s;
    if (!s.open || s.escaped || s.need > 0 || this.spec.dfa || s.keyText !== null) return null;
    // raw "null" is refused only as the whole value; with a length cap it could be forced to end there
    if (s.nullPos >= 0 && Number.isFinite(this.spec.maxLength)) return null;
    return this.spec.maxLength - s.count;
  }

  private complete(s: StringState): boolean {
    const spec = this.spec;
    if (s.count < spec.minLength || s.escaped || s.need > 0) return false;
    if (spec.dfa && !spec.dfa.isAccepting(s.dfa)) return false;
    if (s.keyText !== null && spec.excluded!.has(s.keyText)) return false;
    return s.nullPos !== NULL_TEXT.length;
  }

  canEnd(): boolean {
    return this.spec.raw && this.complete(this.s);
  }

  step(symbol: number): Move[] {
    const s = this.s;
    const spec = this.spec;
    if (symbol > 0xff) return NONE;
    if (!s.open) return symbol === QUOTE ? replaceWith(new StringFrame(this.node, { ...s, open: true })) : NONE;
    if (s.need > 0) {
      if (symbol < s.lo || symbol > s.hi) return NONE;
      const acc = (s.acc << 6) | (symbol & 0x3f);
      if (s.need > 1) return this.partial({ ...s, need: s.need - 1, lo: 0x80, hi: 0xbf, acc });
      return this.addCodePoint({ ...s, need: 0, acc: 0 }, acc);
    }
    if (s.escaped) {
      const cp = ESCAPES[symbol];
      return cp === undefined ? NONE : this.addCodePoint({ ...s, escaped: false }, cp);
    }
    if (!spec.raw) {
      if (symbol === QUOTE) return this.complete(s) ? DONE : NONE;
      if (symbol === BACKSLASH) return this.canEscape(s) ? replaceWith(new StringFrame(this.node, { ...s, escaped: true })) : NONE;
      if (symbol < 0x20) return NONE;
    } else if (symbol === 0x3c || (symbol < 0x20 && symbol !== 0x0a && symbol !== 0x09)) {
      return NONE;
    }
    if (symbol < 0x80) return this.addCodePoint(s, symbol);
    const lead = utf8Lead(symbol);
    if (lead === null) return NONE;
    return this.partial({ ...s, ...lead });
  }

  /** A backslash only where some escaped character still fits. */
  private canEscape(s: StringState): boolean {
    const dfa = this.spec.dfa;
    if (s.count + 1 > this.spec.maxLength) return false;
    return !dfa || Object.values(ESCAPES).some((cp) => dfa.step(s.dfa, cp) !== DEAD_STATE);
  }

  /** Inside a UTF-8 character: refused when no character it can become fits the length or the pattern. */
  private partial(s: StringState): Move[] {
    const spec = this.spec;
    if (s.count + 1 > spec.maxLength) return NONE;
    // the characters it can become: the next byte within [s.lo, s.hi], any bytes after it
    const rest = 6 * (s.need - 1);
    const lo = ((s.acc << 6) | (s.lo & 0x3f)) << rest;
    const hi = ((((s.acc << 6) | (s.hi & 0x3f)) + 1) << rest) - 1;
    if (spec.dfa && !spec.dfa.canStepInRange(s.dfa, lo, hi)) return NONE;
    return replaceWith(new StringFrame(this.node, s));
  }

  private addCodePoint(s: StringState, cp: number): Move[] {
    const spec = this.spec;
    const count = s.count + 1;
    if (count > spec.maxLength) return NONE;
    const dfa = spec.dfa ? spec.dfa.step(s.dfa, cp) : 0;
    if (dfa === DEAD_STATE) return NONE;
    let keyText = s.keyText;
    if (keyText !== null) {
      keyText += String.fromCodePoint(cp);
      const prefix = keyText;
      if (![...spec.excluded!].some((name) => name.startsWith(prefix))) keyText = null;
    }
    let nullPos = s.nullPos;
    if (nullPos >= 0) {
      nullPos = nullPos < NULL_TEXT.length && String.fromCodePoint(cp).toLowerCase() === NULL_TEXT[nullPos] ? nullPos + 1 : -1;
    }
    const next: StringState = { ...s, count, dfa, keyText, nullPos };
    // at maxLength the string must be able to end as it is
    if (count === spec.maxLength && !this.complete({ ...next, count: Math.max(count, spec.minLength) })) return NONE;
    return replaceWith(new StringFrame(this.node, next));
  }
}

/** The state after a UTF-8 lead byte (ranges of the next byte per RFC 3629), or null. */
function utf8Lead(b: number): Pick<StringState, 'need' | 'lo' | 'hi' | 'acc'> | null {
  if (b >= 0xc2 && b <= 0xdf) return { need: 1, lo: 0x80, hi: 0xbf, acc: b & 0x1f };
  if (b >= 0xe0 && b <= 0xef) return { need: 2, lo: b === 0xe0 ? 0xa0 : 0x80, hi: b === 0xed ? 0x9f : 0xbf, acc: b & 0x0f };
  if (b >= 0xf0 && b <= 0xf4) return { need: 3, lo: b === 0xf0 ? 0x90 : 0x80, hi: b === 0xf4 ? 0x8f : 0xbf, acc: b & 0x07 };
  return null;
}
