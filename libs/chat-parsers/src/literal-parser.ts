// Parses a tool-call parameter value written as JSON or as a Python literal (what vLLM accepts
// through json.loads and ast.literal_eval: single quotes, True/False/None, tuples, trailing
// commas) and returns it re-serialized as Python-style JSON text (python-json.ts), or null when
// the text is neither. Numbers keep their exact value (big ints stay exact). Sets, bytes, complex
// numbers and other literals json.dumps cannot write are rejected. Tested by param-converter.spec.ts.

import { floatRepr } from '../../chat-template/src/python-float-repr';
import { canonicalInteger, jsonString } from './python-json';

class LiteralSyntaxError extends Error {}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', '/': '/', n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', a: '\x07',
};
const WORDS: Record<string, string> = {
  true: 'true', false: 'false', null: 'null', True: 'true', False: 'false', None: 'null',
};
const NUMBER_RE =
  /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*(?:\.(?:\d[\d_]*)?)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)/;

/** JSON text of the value `text` denotes, or null when it is not a JSON / Python literal. */
export function parseLiteralToJson(text: string): string | null {
  const parser = new LiteralParser(text);
  try {
    const json = parser.parseValue();
    parser.skipSpace();
    return parser.atEnd() ? json : null;
  } catch (error) {
    if (error instanceof LiteralSyntaxError) return null;
    throw error;
  }
}

class LiteralParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  parseValue(): string {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.parseDict();
    if (c === '[') return this.parseSequence('[', ']');
    if (c === '(') return this.parseParenthesized();
    if (c === '"' || c === "'") return jsonString(this.parseString());
    const word = /^[A-Za-z_]\w*/.exec(this.text.slice(this.pos));
    if (word) {
      const json = WORDS[word[0]];
      if (json === undefined) throw new LiteralSyntaxError(`name ${word[0]}`);
      this.pos += word[0].length;
      return json;
    }
    return this.parseNumber();
  }

  private expect(char: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== char) throw new LiteralSyntaxError(`expected ${char}`);
    this.pos++;
  }

  /** Comma-separated items up to `close` (trailing comma allowed, as in Python). */
  private parseItems(close: string, parseItem: () => string): string[] {
    const items: string[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) break;
      items.push(parseItem());
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== close) throw new LiteralSyntaxError(`expected , or ${close}`);
    }
    this.pos++;
    return items;
  }

  private parseSequence(open: string, close: string): string {
    this.expect(open);
    return `[${this.parseItems(close, () => this.parseValue()).join(', ')}]`;
  }

  /** `(x)` is x; `()`, `(x,)` and `(x, y)` are tuples, which json.dumps writes as lists. */
  private parseParenthesized(): string {
    const start = this.pos;
    this.expect('(');
    this.skipSpace();
    if (this.text[this.pos] !== ')') {
      const first = this.parseValue();
      this.skipSpace();
      if (this.text[this.pos] === ')') {
        this.pos++;
        return first;
      }
    }
    this.pos = start;
    return this.parseSequence('(', ')');
  }

  private parseDict(): string {
    this.expect('{');
    const entries = this.parseItems('}', () => {
      const key = this.parseKey();
      this.expect(':');
      return `${key}: ${this.parseValue()}`;
    });
    return `{${entries.join(', ')}}`;
  }

  /** json.dumps turns str / int / float / bool / None keys into strings; anything else is an error. */
  private parseKey(): string {
    const key = this.parseValue();
    if (key.startsWith('"')) return key;
    if (key.startsWith('[') || key.startsWith('{')) throw new LiteralSyntaxError('unhashable key');
    return jsonString(key);
  }

  private parseString(): string {
    const quote = this.text[this.pos++];
    let out = '';
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined || c === '\n' || c === '\r') throw new LiteralSyntaxError('unterminated string');
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      out += this.parseEscape();
    }
  }

  private parseEscape(): string {
    const c = this.text[this.pos++];
    if (c === undefined) throw new LiteralSyntaxError('unterminated escape');
    if (c in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[c];
    const hexLength = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
    if (hexLength > 0) {
      const hex = this.text.slice(this.pos, this.pos + hexLength);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLength) throw new LiteralSyntaxError('bad hex escape');
      this.pos += hexLength;
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) throw new LiteralSyntaxError('bad code point');
      return String.fromCodePoint(code);
    }
    const octal = /^[0-7]{1,3}/.exec(this.text.slice(this.pos - 1));
    if (octal) {
      this.pos += octal[0].length - 1;
      return String.fromCharCode(parseInt(octal[0], 8));
    }
    return `\\${c}`; // unknown escape: Python keeps the backslash
  }

  private parseNumber(): string {
    let sign = '';
    if (this.text[this.pos] === '-' || this.text[this.pos] === '+') {
      sign = this.text[this.pos++] === '-' ? '-' : '';
      this.skipSpace();
    }
    const match = NUMBER_RE.exec(this.text.slice(this.pos));
    if (!match || /_$|__|_\.|\._|_[eE]|[eE][+-]?_/.test(match[0])) throw new LiteralSyntaxError('number');
    const literal = match[0];
    this.pos += literal.length;
    if (/[jJ]/.test(this.text[this.pos] ?? '')) throw new LiteralSyntaxError('complex number');
    const isFloat = !/^0[xXoObB]/.test(literal) && /[.eE]/.test(literal);
    if (!isFloat) {
      if (/^0\d*[1-9]/.test(literal.replace(/_/g, ''))) throw new LiteralSyntaxError('leading zeros');
      const int = canonicalInteger(literal);
      return sign === '-' && int !== '0' ? `-${int}` : int;
    }
    const value = Number(`${sign}${literal.replace(/_/g, '')}`);
    if (!Number.isFinite(value)) throw new LiteralSyntaxError('float overflow');
    return floatRepr(value);
  }
}
