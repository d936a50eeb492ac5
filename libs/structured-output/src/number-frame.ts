// A JSON number being matched: `-?(0|[1-9]\d{0,15})(\.\d{1,16})?` (integers without the
// fraction; no exponent; at most 15 significant digits when bounded, so comparisons are exact).
// minimum / maximum are enforced on the prefix: a digit is taken only while some completion of the text can still land
// in range, and the number may end only inside it. Tests: automaton.spec.ts.
import { NONE, replaceWith, type Frame, type Move } from './frame';
import type { GrammarNode, NumberSpec } from './grammar-node';

type NumberNode = GrammarNode & { kind: 'number' };

const MAX_INT_DIGITS = 16;
const MAX_BOUNDED_DIGITS = 15;
const NUMBER_PREFIX = /^-?(?:(?:0|[1-9]\d{0,15})(?:\.\d{0,16})?)?$/;
const INTEGER_PREFIX = /^-?(?:0|[1-9]\d{0,15})?$/;
const COMPLETE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;

export class NumberFrame implements Frame {
  readonly key: string;
  private readonly bounded: boolean;

  private constructor(private readonly node: NumberNode, private readonly text: string) {
    this.bounded = Number.isFinite(node.spec.min) || Number.isFinite(node.spec.max);
    this.key = `N${node.id}.${this.bounded ? text : shape(text)}`;
  }

  static begin(node: NumberNode): NumberFrame {
    return new NumberFrame(node, '');
  }

  step(symbol: number): Move[] {
    if (symbol > 0x7f) return NONE;
    const text = this.text + String.fromCharCode(symbol);
    const spec = this.node.spec;
    if (!(spec.integer ? INTEGER_PREFIX : NUMBER_PREFIX).test(text)) return NONE;
    // bounded: at most 15 significant digits, so every prefix and bound compares exactly as a double
    if (this.bounded && text.replace(/[-.]/g, '').length > MAX_BOUNDED_DIGITS) return NONE;
    return canReachRange(text, spec) ? replaceWith(new NumberFrame(this.node, text)) : NONE;
  }

  canEnd(): boolean {
    if (!COMPLETE.test(this.text)) return false;
    return inRange(Number(this.text), this.node.spec);
  }
}

/** The state's shape when no bound reads the value: sign, digit counts, leading zero, dot. */
function shape(text: string): string {
  const m = /^(-?)(\d*)(\.?)(\d*)$/.exec(text)!;
  return `${m[1]}${m[2].length}${m[2] === '0' ? 'z' : ''}${m[3]}${m[4].length}`;
}

export function inRange(value: number, spec: NumberSpec): boolean {
  if (spec.minExclusive ? value <= spec.min : value < spec.min) return false;
  return spec.maxExclusive ? value < spec.max : value <= spec.max;
}

/** Whether some number that starts with `text` (within the digit caps) lies in [min, max]. */
export function canReachRange(text: string, spec: NumberSpec): boolean {
  const { min, max } = spec;
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  if (body === '') return negative ? min < 0 : true;
  // magnitudes [a, b] (integers) or [a, b) (numbers): the values that start with the text
  const hits = (a: number, b: number): boolean => {
    if (spec.integer) {
      const [lo, hi] = negative ? [-b, -a] : [a, b];
      return Math.ceil(Math.max(lo, min)) <= Math.floor(Math.min(hi, max));
    }
    return negative ? -b < max && -a >= min : a <= max && b > min;
  };
  const dot = body.indexOf('.');
  if (dot >= 0) {
    const fraction = body.length - dot - 1;
    const value = Number(body.slice(0, dot) + '.' + (body.slice(dot + 1) || '0'));
    return hits(value, value + 10 ** -fraction);
  }
  const value = Number(body);
  if (body === '0') return hits(0, spec.integer ? 0 : 1);
  for (let k = 0; body.length + k <= MAX_INT_DIGITS; k++) {
    const scale = 10 ** k;
    const upper = spec.integer ? (value + 1) * scale - 1 : (value + 1) * scale;
    if (hits(value * scale, upper)) return true;
  }
  return false;
}
