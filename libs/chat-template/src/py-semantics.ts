// Python semantics over @huggingface/jinja runtime values: str()/repr(), ==, ordering, len(),
// iteration and str.strip(), as CPython and jinja2 define them. The interpreter and the filters
// use these so a template prints `True`, `None`, `['a', 'b']`, `{'k': 1}` and `1e-05` like
// Python does. Tested in py-interpreter.spec.ts.
import {
  RV, MapV, NumV, TemplateRenderError, dictEntries, isBool, isDict, isFloat, isFn, isInt,
  isList, isNamespace, isNone, isNumeric, isStr, isTuple, isUndef, numOf, str, typeError, undefinedError,
} from './jinja-runtime';
import { floatRepr } from './python-float-repr';

/** Python's type name of a value (`str`, `int`, `NoneType`, `dict`...). */
export function typeName(v: RV): string {
  if (isStr(v)) return 'str';
  if (isBool(v)) return 'bool';
  if (isInt(v)) return 'int';
  if (isFloat(v)) return 'float';
  if (isNone(v)) return 'NoneType';
  if (isUndef(v)) return 'Undefined';
  if (isTuple(v)) return 'tuple';
  if (isList(v)) return 'list';
  if (isNamespace(v)) return 'Namespace';
  if (isDict(v)) return 'dict';
  if (isFn(v)) return 'function';
  return v.type;
}

/** jinja2's object_type_repr, used in Undefined hints (`dict object`, `None`). */
export function objectTypeRepr(v: RV): string {
  if (isNone(v)) return 'None';
  if (isNamespace(v)) return 'jinja2.utils.Namespace object';
  return `${typeName(v)} object`;
}

export function intRepr(n: number): string {
  return Math.abs(n) >= 1e21 ? BigInt(n).toString() : String(n);
}

// Characters str.isprintable() rejects (other than ' ').
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** repr(str): single quotes unless the text has ' and no ", escapes for the non-printable. */
export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      const hex = cp.toString(16);
      out += cp < 0x100 ? `\\x${hex.padStart(2, '0')}` : cp < 0x10000 ? `\\u${hex.padStart(4, '0')}` : `\\U${hex.padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

/** repr(value) as Python prints it inside containers. */
export function pyRepr(v: RV): string {
  if (isStr(v)) return strRepr(v.value);
  if (isUndef(v)) return 'Undefined';
  if (isList(v) && isTuple(v)) {
    const items = v.value.map(pyRepr);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  if (isList(v)) return `[${v.value.map(pyRepr).join(', ')}]`;
  if (isNamespace(v)) return `<Namespace ${dictRepr(v as MapV)}>`;
  if (isDict(v)) return dictRepr(v);
  return pyStr(v);
}

function dictRepr(d: MapV): string {
  const entries = isNamespace(d) ? [...d.value].map(([k, v]): [RV, RV] => [str(k), v]) : dictEntries(d);
  return `{${entries.map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
}

/** str(value), what `{{ value }}`, `~` and `| string` produce (Undefined prints as ''). */
export function pyStr(v: RV): string {
  if (isStr(v)) return v.value;
  if (isBool(v)) return v.value ? 'True' : 'False';
  if (isInt(v)) return intRepr((v as NumV).value);
  if (isFloat(v)) return floatRepr((v as NumV).value);
  if (isNone(v)) return 'None';
  if (isUndef(v)) return '';
  if (isList(v) || isDict(v) || isNamespace(v)) return pyRepr(v);
  if (isFn(v)) return '<function>';
  return v.toString();
}

/** Python ==, including 1 == 1.0 == True, deep list/dict equality, and list != tuple. */
export function pyEquals(a: RV, b: RV): boolean {
  if (isNumeric(a) && isNumeric(b)) return numOf(a) === numOf(b);
  if (isStr(a) || isStr(b)) return isStr(a) && isStr(b) && a.value === b.value;
  if (isNone(a) || isNone(b)) return isNone(a) && isNone(b);
  if (isUndef(a) || isUndef(b)) return isUndef(a) && isUndef(b);
  if (isList(a) && isList(b)) {
    return isTuple(a) === isTuple(b) && a.value.length === b.value.length && a.value.every((x, i) => pyEquals(x, b.value[i]));
  }
  if (isDict(a) && isDict(b)) {
    return a.value.size === b.value.size && [...a.value].every(([k, v]) => b.value.has(k) && pyEquals(v, b.value.get(k)!));
  }
  return a === b;
}

function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i].codePointAt(0)! - y[i].codePointAt(0)!;
  }
  return x.length - y.length;
}

/** Python ordering (<0, 0, >0); raises TypeError for unorderable pairs, as `sorted` and `<` do. */
export function pyCompare(a: RV, b: RV, op = '<'): number {
  if (isUndef(a)) throw undefinedError(a);
  if (isUndef(b)) throw undefinedError(b);
  if (isNumeric(a) && isNumeric(b)) return numOf(a) - numOf(b);
  if (isStr(a) && isStr(b)) return compareCodePoints(a.value, b.value);
  if (isList(a) && isList(b) && isTuple(a) === isTuple(b)) {
    for (let i = 0; i < Math.min(a.value.length, b.value.length); i++) {
      if (!pyEquals(a.value[i], b.value[i])) return pyCompare(a.value[i], b.value[i], op);
    }
    return a.value.length - b.value.length;
  }
  throw typeError(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

/** The items `for x in value` visits: chars of a str, keys of a dict, nothing for Undefined. */
export function pyIterate(v: RV): RV[] {
  if (isList(v)) return v.value;
  if (isStr(v)) return [...v.value].map(str);
  if (isDict(v)) return dictEntries(v).map(([k]) => k);
  if (isUndef(v)) return [];
  throw typeError(`'${typeName(v)}' object is not iterable`);
}

/** len(value); code points for strings (not UTF-16 units). */
export function pyLen(v: RV): number {
  if (isStr(v)) return [...v.value].length;
  if (isList(v)) return v.value.length;
  if (isDict(v)) return v.value.size;
  if (isUndef(v)) return 0;
  throw typeError(`object of type '${typeName(v)}' has no len()`);
}

// str.isspace() characters, for str.strip() with no argument.
const PY_WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const escapeForClass = (chars: string): string => chars.replace(/[\]\\^-]/g, '\\$&');

/** str.strip / lstrip / rstrip with Python's whitespace set or explicit chars. */
export function pyStrip(s: string, chars: string | null, side: 'both' | 'left' | 'right' = 'both'): string {
  if (chars === '') return s;
  const set = chars === null ? PY_WHITESPACE : escapeForClass(chars);
  let out = s;
  if (side !== 'right') out = out.replace(new RegExp(`^[${set}]+`, 'u'), '');
  if (side !== 'left') out = out.replace(new RegExp(`[${set}]+$`, 'u'), '');
  return out;
}

export function assertDefined(...values: RV[]): void {
  for (const v of values) if (isUndef(v)) throw undefinedError(v);
}

export { TemplateRenderError };
