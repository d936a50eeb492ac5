// Python's json.dumps over jinja runtime values: the `tojson` filter as transformers defines it
// (json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False); no HTML
// escaping, unlike jinja2's own tojson). Floats print as Python repr, keys keep Python's key
// conversion (1 -> "1", True -> "true", None -> "null").
import { RV, NumV, dictEntries, isBool, isDict, isFloat, isInt, isList, isNone, isStr, typeError } from './jinja-runtime';
import { floatRepr } from './python-float-repr';
import { intRepr, pyCompare, typeName } from './py-semantics';

export interface JsonDumpsOptions {
  ensureAscii?: boolean;
  /** null: one line; number: that many spaces per level; string: used as the indent itself. */
  indent?: number | string | null;
  /** [item separator, key separator]; default [', ', ': '], or [',', ': '] when indenting. */
  separators?: [string, string] | null;
  sortKeys?: boolean;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function jsonString(s: string, ensureAscii: boolean): string {
  const pattern = ensureAscii ? /["\\]|[^\x20-\x7e]/g : /["\\\x00-\x1f]/g;
  const escaped = s.replace(pattern, (ch) => SHORT_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `"${escaped}"`;
}

function jsonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  return floatRepr(x);
}

function jsonKey(key: RV, ensureAscii: boolean): string {
  if (isStr(key)) return jsonString(key.value, ensureAscii);
  if (isBool(key)) return key.value ? '"true"' : '"false"';
  if (isInt(key)) return `"${intRepr((key as NumV).value)}"`;
  if (isFloat(key)) return `"${jsonFloat((key as NumV).value)}"`;
  if (isNone(key)) return '"null"';
  throw typeError(`keys must be str, int, float, bool or None, not ${typeName(key)}`);
}

export function jsonDumps(value: RV, options: JsonDumpsOptions = {}): string {
  const ensureAscii = options.ensureAscii ?? false;
  const indent = options.indent ?? null;
  const indentUnit = indent === null ? null : typeof indent === 'number' ? ' '.repeat(indent) : indent;
  const [itemSep, keySep] = options.separators ?? (indentUnit === null ? [', ', ': '] : [',', ': ']);

  const container = (open: string, close: string, parts: string[], depth: number): string => {
    if (parts.length === 0) return open + close;
    if (indentUnit === null) return open + parts.join(itemSep) + close;
    const inner = '\n' + indentUnit.repeat(depth + 1);
    return `${open}${inner}${parts.join(itemSep + inner)}\n${indentUnit.repeat(depth)}${close}`;
  };

  const encode = (v: RV, depth: number): string => {
    if (isStr(v)) return jsonString(v.value, ensureAscii);
    if (isBool(v)) return v.value ? 'true' : 'false';
    if (isInt(v)) return intRepr((v as NumV).value);
    if (isFloat(v)) return jsonFloat((v as NumV).value);
    if (isNone(v)) return 'null';
    if (isList(v)) return container('[', ']', v.value.map((x) => encode(x, depth + 1)), depth);
    if (isDict(v)) {
      let entries = dictEntries(v);
      if (options.sortKeys) entries = [...entries].sort(([a], [b]) => pyCompare(a, b));
      const parts = entries.map(([k, x]) => jsonKey(k, ensureAscii) + keySep + encode(x, depth + 1));
      return container('{', '}', parts, depth);
    }
    throw typeError(`Object of type ${typeName(v)} is not JSON serializable`);
  };
  return encode(value, 0);
}
