// The documented subset of JSON Schema `pattern` (ECMAScript syntax, as ajv runs it with the
// `u` flag) parsed into a small AST: literals and escapes (\d \w \s \D \W \S \. \n \t \uXXXX),
// `.`, classes `[a-z_]` / `[^...]`, groups `( )` `(?: )`, alternation `|`, quantifiers `* + ?`
// `{n}` `{n,}` `{n,m}` (lazy `?` suffix accepted), and `^` / `$` only at the ends. Anything else
// (look-around, back-references, \b, named groups, flags) throws UnsupportedRegexError.
// Tested by code-point-dfa.spec.ts.

export type CodePointRange = [number, number];

export type RegexAst =
  | { kind: 'set'; ranges: CodePointRange[] }
  | { kind: 'concat'; items: RegexAst[] }
  | { kind: 'alt'; items: RegexAst[] }
  | { kind: 'repeat'; item: RegexAst; min: number; max: number };

export class UnsupportedRegexError extends Error {}

export const MAX_CODE_POINT = 0x10ffff;
const DIGIT: CodePointRange[] = [[0x30, 0x39]];
const WORD: CodePointRange[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: CodePointRange[] = [[0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a],
  [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff]];
const LINE_TERMINATORS: CodePointRange[] = [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]];
const MAX_REPEAT = 256;

export function negateRanges(ranges: CodePointRange[]): CodePointRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: CodePointRange[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

export const ANY_CHAR: RegexAst = { kind: 'set', ranges: [[0, MAX_CODE_POINT]] };

/** Parses `pattern`; `anchoredStart` / `anchoredEnd` say whether it began with ^ / ended with $. */
export function parseRegex(pattern: string): { ast: RegexAst; anchoredStart: boolean; anchoredEnd: boolean } {
  const chars = [...pattern];
  let pos = 0;
  const anchoredStart = chars[0] === '^';
  if (anchoredStart) pos = 1;
  let end = chars.length;
  const anchoredEnd = end > pos && chars[end - 1] === '$' && chars[end - 2] !== '\\';
  if (anchoredEnd) end--;
  const fail = (what: string): never => {
    throw new UnsupportedRegexError(`${what} at position ${pos} is not in the supported pattern subset`);
  };
  const peek = (): string | undefined => (pos < end ? chars[pos] : undefined);

  const escapeSet = (c: string, inClass: boolean): CodePointRange[] => {
    switch (c) {
      case 'd': return DIGIT;
      case 'D': return negateRanges(DIGIT);
      case 'w': return WORD;
      case 'W': return negateRanges(WORD);
      case 's': return SPACE;
      case 'S': return negateRanges(SPACE);
      case 'n': return [[0x0a, 0x0a]];
      case 't': return [[0x09, 0x09]];
      case 'r': return [[0x0d, 0x0d]];
      case 'f': return [[0x0c, 0x0c]];
      case 'v': return [[0x0b, 0x0b]];
      case 'u': {
        const hex = chars.slice(pos, pos + 4).join('');
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('\\u escape');
        pos += 4;
        const cp = Number.parseInt(hex, 16);
        return [[cp, cp]];
      }
      default:
        if (/[\\^$.|?*+()[\]{}/-]/.test(c)) return [[c.codePointAt(0)!, c.codePointAt(0)!]];
        if (inClass && c === 'b') return [[0x08, 0x08]];
        return fail(`escape \\${c}`);
    }
  };

  const parseClass = (): RegexAst => {
    pos++; // '['
    const negated = peek() === '^';
    if (negated) pos++;
    const ranges: CodePointRange[] = [];
    let first = true;
    for (;;) {
      const c = peek();
      if (c === undefined) fail('unterminated class');
      if (c === ']' && !first) break;
      first = false;
      pos++;
      let lo: CodePointRange[];
      if (c === '\\') lo = escapeSet(chars[pos++] ?? fail('escape'), true);
      else lo = [[c!.codePointAt(0)!, c!.codePointAt(0)!]];
      if (peek() === '-' && chars[pos + 1] !== ']' && pos + 1 < end && lo.length === 1 && lo[0][0] === lo[0][1]) {
        pos++;
        const h = chars[pos++];
        const hi = h === '\\' ? escapeSet(chars[pos++] ?? fail('escape'), true) : [[h.codePointAt(0)!, h.codePointAt(0)!]];
        if (hi.length !== 1 || hi[0][0] !== hi[0][1] || hi[0][0] < lo[0][0]) fail('class range');
        ranges.push([lo[0][0], hi[0][0]]);
      } else ranges.push(...lo);
    }
    pos++; // ']'
    return { kind: 'set', ranges: negated ? negateRanges(ranges) : ranges };
  };

  const parseAtom = (): RegexAst => {
    const c = peek()!;
    if (c === '(') {
      pos++;
      if (peek() === '?') {
        if (chars[pos + 1] !== ':') fail('group modifier');
        pos += 2;
      }
      const inner = parseAlt();
      if (peek() !== ')') fail('unbalanced (');
      pos++;
      return inner;
    }
    if (c === '[') return parseClass();
    pos++;
    if (c === '.') return { kind: 'set', ranges: negateRanges(LINE_TERMINATORS) };
    if (c === '\\') return { kind: 'set', ranges: escapeSet(chars[pos++] ?? fail('escape'), false) };
    if (c === '^' || c === '$') fail(`anchor ${c} inside the pattern`);
    if (c === ')' || c === '|' || '*+?{'.includes(c)) fail(`'${c}'`);
    return { kind: 'set', ranges: [[c.codePointAt(0)!, c.codePointAt(0)!]] };
  };

  const parseQuantifier = (item: RegexAst): RegexAst => {
    for (;;) {
      const c = peek();
      let min: number, max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(chars.slice(pos, end).join(''));
        if (!m) return fail('{');
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (max < min || min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) fail(`repetition ${m[0]}`);
        pos += m[0].length - 1;
      } else return item;
      pos++;
      if (peek() === '?') pos++; // lazy: the same language
      item = { kind: 'repeat', item, min, max };
    }
  };

  const parseConcat = (): RegexAst => {
    const items: RegexAst[] = [];
    while (peek() !== undefined && peek() !== '|' && peek() !== ')') items.push(parseQuantifier(parseAtom()));
    return { kind: 'concat', items };
  };

  const parseAlt = (): RegexAst => {
    const items = [parseConcat()];
    while (peek() === '|') {
      pos++;
      items.push(parseConcat());
    }
    return items.length === 1 ? items[0] : { kind: 'alt', items };
  };

  const ast = parseAlt();
  if (pos !== end) fail(`'${chars[pos]}'`);
  return { ast, anchoredStart, anchoredEnd };
}
