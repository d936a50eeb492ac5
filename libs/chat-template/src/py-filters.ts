// Filters and tests with jinja2's (and transformers') semantics, used by PyInterpreter in place of
// @huggingface/jinja's built-ins of the same name. Filters not listed here fall back to the
// library. Each filter receives the evaluated operand and its positional and keyword arguments.
import {
  RV, dictEntries, isBool, isDict, isFloat, isFn, isInt, isList, isNone, isNumeric, isStr,
  isUndef, list, str, TemplateRenderError, tuple, num, typeError, numOf, Environment, NumV,
} from './jinja-runtime';
import { jsonDumps } from './py-json';
import { pyCompare, pyIterate, pyLen, pyStr, pyStrip } from './py-semantics';

export type FilterFn = (operand: RV, args: RV[], kwargs: Map<string, RV>, env: Environment) => RV;

/** Python-style argument binding: positional index first, then keyword, then the default. */
function arg(args: RV[], kwargs: Map<string, RV>, index: number, name: string): RV | undefined {
  return args[index] ?? kwargs.get(name);
}
const truthy = (v: RV | undefined, fallback: boolean): boolean => (v === undefined ? fallback : v.__bool__().value);
const optionalString = (v: RV | undefined): string | null => (v === undefined || isNone(v) ? null : pyStr(v));

function tojson(operand: RV, args: RV[], kwargs: Map<string, RV>): RV {
  const indent = arg(args, kwargs, 1, 'indent');
  const separators = arg(args, kwargs, 2, 'separators');
  if (separators !== undefined && !isNone(separators) && (!isList(separators) || separators.value.length !== 2)) {
    throw typeError('separators must be a pair of strings');
  }
  return str(
    jsonDumps(operand, {
      ensureAscii: truthy(arg(args, kwargs, 0, 'ensure_ascii'), false),
      indent: indent === undefined || isNone(indent) ? null : isStr(indent) ? indent.value : numOf(indent as NumV),
      separators: separators && isList(separators) ? [pyStr(separators.value[0]), pyStr(separators.value[1])] : null,
      sortKeys: truthy(arg(args, kwargs, 3, 'sort_keys'), false),
    }),
  );
}

function items(operand: RV): RV {
  if (isUndef(operand)) return list([]);
  if (!isDict(operand)) throw typeError('Can only get item pairs from a mapping.');
  return list(dictEntries(operand).map(([k, v]) => tuple([k, v])));
}

function dictsort(operand: RV, args: RV[], kwargs: Map<string, RV>): RV {
  if (!isDict(operand)) throw typeError(`'${operand.type}' object has no attribute 'items'`);
  const caseSensitive = truthy(arg(args, kwargs, 0, 'case_sensitive'), false);
  const by = optionalString(arg(args, kwargs, 1, 'by')) ?? 'key';
  if (by !== 'key' && by !== 'value') {
    throw new TemplateRenderError('FilterArgumentError', 'You can only sort by either "key" or "value"');
  }
  const position = by === 'key' ? 0 : 1;
  const sortKey = (v: RV): RV => (!caseSensitive && isStr(v) ? str(v.value.toLowerCase()) : v);
  const sign = truthy(arg(args, kwargs, 2, 'reverse'), false) ? -1 : 1;
  const pairs = dictEntries(operand).sort((a, b) => sign * pyCompare(sortKey(a[position]), sortKey(b[position])));
  return list(pairs.map((pair) => tuple(pair)));
}

function join(operand: RV, args: RV[], kwargs: Map<string, RV>): RV {
  const separator = optionalString(arg(args, kwargs, 0, 'd')) ?? '';
  const attribute = optionalString(arg(args, kwargs, 1, 'attribute'));
  const values = pyIterate(operand).map((v) => (attribute !== null && isDict(v) ? (v.value.get(attribute) ?? str('')) : v));
  return str(values.map(pyStr).join(separator));
}

function defaultFilter(operand: RV, args: RV[], kwargs: Map<string, RV>): RV {
  const fallback = arg(args, kwargs, 0, 'default_value') ?? str('');
  const useBoolean = truthy(arg(args, kwargs, 1, 'boolean'), false);
  return isUndef(operand) || (useBoolean && !operand.__bool__().value) ? fallback : operand;
}

export const PY_FILTERS: ReadonlyMap<string, FilterFn> = new Map<string, FilterFn>([
  ['string', (v) => str(pyStr(v))],
  ['tojson', tojson],
  ['items', items],
  ['dictsort', dictsort],
  ['trim', (v, a, k) => str(pyStrip(pyStr(v), optionalString(arg(a, k, 0, 'chars'))))],
  ['length', (v) => num(pyLen(v), false)],
  ['count', (v) => num(pyLen(v), false)],
  ['list', (v) => list(pyIterate(v).slice())],
  ['join', join],
  ['default', defaultFilter],
  ['d', defaultFilter],
]);

export type TestFn = (operand: RV) => boolean;

/** jinja2's tests (tests with arguments are not parsed by the library and stay unsupported). */
export const PY_TESTS: ReadonlyMap<string, TestFn> = new Map<string, TestFn>([
  ['defined', (v) => !isUndef(v)],
  ['undefined', (v) => isUndef(v)],
  ['none', (v) => isNone(v)],
  ['boolean', (v) => isBool(v)],
  ['true', (v) => isBool(v) && v.value],
  ['false', (v) => isBool(v) && !v.value],
  ['integer', (v) => isInt(v)],
  ['float', (v) => isFloat(v)],
  ['number', (v) => isNumeric(v)],
  ['string', (v) => isStr(v)],
  ['mapping', (v) => isDict(v)],
  ['iterable', (v) => isStr(v) || isList(v) || isUndef(v) || isDict(v)],
  ['sequence', (v) => isStr(v) || isList(v) || isUndef(v) || isDict(v)],
  ['callable', (v) => isFn(v)],
  ['odd', (v) => isNumeric(v) && Math.abs(numOf(v) % 2) === 1],
  ['even', (v) => isNumeric(v) && numOf(v) % 2 === 0],
  ['lower', (v) => pyStr(v) === pyStr(v).toLowerCase()],
  ['upper', (v) => pyStr(v) === pyStr(v).toUpperCase()],
  ['escaped', () => false],
]);
