// Python operators and jinja2's attribute/item lookup over jinja runtime values. Replaces the
// library's JS semantics (loose ==, string + anything, `True` printed as `true`, string keys
// only) with what CPython + jinja2's sandbox do, including their TypeError / UndefinedError
// messages. Used by PyInterpreter; tested in py-interpreter.spec.ts.
import {
  RV, MapV, NumV, bool, dictEntries, encodeKey, fn, isBool, isDict, isFloat, isInt, isList, isNamespace,
  isNone, isNumeric, isStr, isTuple, isUndef, list, none, num, numOf, str, TemplateRenderError, tuple,
  typeError, undefinedError, undefinedWithHint,
} from './jinja-runtime';
import { assertDefined, objectTypeRepr, pyCompare, pyEquals, pyRepr, pyStr, pyStrip, strRepr, typeName } from './py-semantics';

export const PY_BINARY_OPERATORS = new Set(['==', '!=', '<', '<=', '>', '>=', 'in', 'not in', '+', '-', '*', '/', '//', '%', '**', '~']);

function unsupported(op: string, a: RV, b: RV): TemplateRenderError {
  return typeError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

function contains(container: RV, item: RV): boolean {
  if (isUndef(container)) return false; // iterating Undefined yields nothing
  if (isStr(container)) {
    if (!isStr(item)) throw typeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    return container.value.includes(item.value);
  }
  if (isList(container)) return container.value.some((x) => pyEquals(x, item));
  if (isDict(container)) return !isUndef(item) && container.value.has(encodeKey(item));
  throw typeError(`argument of type '${typeName(container)}' is not iterable`);
}

function arithmetic(op: string, a: RV, b: RV): RV {
  if (!isNumeric(a) || !isNumeric(b)) throw unsupported(op, a, b);
  const x = numOf(a);
  const y = numOf(b);
  const isFloatResult = isFloat(a) || isFloat(b);
  if ((op === '/' || op === '//' || op === '%') && y === 0) {
    throw new TemplateRenderError('ZeroDivisionError', op === '/' ? 'division by zero' : 'integer division or modulo by zero');
  }
  switch (op) {
    case '-': return num(x - y, isFloatResult);
    case '/': return num(x / y, true);
    case '//': return num(Math.floor(x / y), isFloatResult);
    case '%': return num(x - y * Math.floor(x / y), isFloatResult);
    default: return num(x ** y, isFloatResult || y < 0); // '**'
  }
}

function repeat(seq: RV, times: RV): RV | undefined {
  if (!(isInt(times) || isBool(times))) return undefined;
  const n = Math.max(0, numOf(times));
  if (isStr(seq)) return str(seq.value.repeat(n));
  if (isList(seq)) {
    const items = Array.from({ length: n }, () => seq.value).flat();
    return isTuple(seq) ? tuple(items) : list(items);
  }
  return undefined;
}

/** Evaluates `a op b` for op in PY_BINARY_OPERATORS (and/or stay with the library: they short-circuit). */
export function binaryOp(op: string, a: RV, b: RV): RV {
  switch (op) {
    case '==': return bool(pyEquals(a, b));
    case '!=': return bool(!pyEquals(a, b));
    case '<': return bool(pyCompare(a, b, op) < 0);
    case '<=': return bool(pyCompare(a, b, op) <= 0);
    case '>': return bool(pyCompare(a, b, op) > 0);
    case '>=': return bool(pyCompare(a, b, op) >= 0);
    case 'in': return bool(contains(b, a));
    case 'not in': return bool(!contains(b, a));
    case '~': return str(pyStr(a) + pyStr(b)); // jinja2 converts both sides with str(); Undefined -> ''
  }
  assertDefined(a, b);
  if (op === '+') {
    if (isNumeric(a) && isNumeric(b)) return num(numOf(a) + numOf(b), isFloat(a) || isFloat(b));
    if (isStr(a) && isStr(b)) return str(a.value + b.value);
    if (isList(a) && isList(b) && isTuple(a) === isTuple(b)) {
      return isTuple(a) ? tuple([...a.value, ...b.value]) : list([...a.value, ...b.value]);
    }
    if (isStr(a) || isList(a)) {
      throw typeError(`can only concatenate ${typeName(a)} (not "${typeName(b)}") to ${typeName(a)}`);
    }
    throw unsupported(op, a, b);
  }
  if (op === '*') {
    if (isNumeric(a) && isNumeric(b)) return num(numOf(a) * numOf(b), isFloat(a) || isFloat(b));
    const repeated = repeat(a, b) ?? repeat(b, a);
    if (repeated) return repeated;
    throw typeError(`can't multiply sequence by non-int of type '${typeName(isStr(a) || isList(a) ? b : a)}'`);
  }
  if (op === '%' && isStr(a)) throw typeError('printf-style string formatting is not supported');
  return arithmetic(op, a, b);
}

// ---- attribute and item lookup (jinja2 Environment.getattr / getitem) ----

function dictMethod(dict: MapV, name: string): RV | undefined {
  switch (name) {
    case 'items': return fn(() => list(dictEntries(dict).map(([k, v]) => tuple([k, v]))));
    case 'keys': return fn(() => list(dictEntries(dict).map(([k]) => k)));
    case 'values': return fn(() => list([...dict.value.values()]));
    case 'get': return fn(([key, fallback]) => {
      const hit = isUndef(key) ? undefined : dict.value.get(encodeKey(key));
      return hit ?? fallback ?? none();
    });
  }
  return undefined;
}

// Methods the library implements with Python's behaviour; strip family re-done for `chars`.
const LIBRARY_STR_METHODS = new Set(['upper', 'lower', 'title', 'capitalize', 'startswith', 'endswith', 'split', 'replace']);

function strMethod(s: RV & { value: string }, name: string): RV | undefined {
  const side = ({ strip: 'both', lstrip: 'left', rstrip: 'right' } as const)[name as 'strip'];
  if (side) return fn(([chars]) => str(pyStrip(s.value, chars === undefined || isNone(chars) ? null : pyStr(chars), side)));
  return LIBRARY_STR_METHODS.has(name) ? s.builtins.get(name) : undefined;
}

function attribute(obj: RV, name: string): RV | undefined {
  if (isNamespace(obj)) return (obj as MapV).value.get(name);
  if (isDict(obj)) return dictMethod(obj, name);
  if (isStr(obj)) return strMethod(obj, name);
  return undefined;
}

function item(obj: RV, key: RV): RV | undefined {
  if (isDict(obj)) {
    if (isUndef(key) || isList(key) || isDict(key)) return undefined; // unhashable: jinja2 falls back to getattr
    return obj.value.get(encodeKey(key));
  }
  if ((isList(obj) || isStr(obj)) && (isInt(key) || isBool(key))) {
    const items = isStr(obj) ? [...obj.value].map(str) : obj.value;
    const index = numOf(key as NumV);
    return items[index < 0 ? items.length + index : index];
  }
  return undefined;
}

/** `obj.name` (isAttribute) or `obj[key]`; a miss is an Undefined carrying jinja2's hint. */
export function getMember(obj: RV, key: RV, isAttribute: boolean): RV {
  if (isUndef(obj)) throw undefinedError(obj);
  const found = isAttribute
    ? (attribute(obj, pyStr(key)) ?? item(obj, key))
    : (item(obj, key) ?? (isStr(key) ? attribute(obj, key.value) : undefined));
  if (found) return found;
  return undefinedWithHint(
    isStr(key)
      ? `${strRepr(objectTypeRepr(obj))} has no attribute ${strRepr(key.value)}`
      : `${objectTypeRepr(obj)} has no element ${pyRepr(key)}`,
  );
}
