// Typed access to @huggingface/jinja's runtime from this CommonJS project.
//
// The package is ESM-first but ships a CJS build; TypeScript (module node16) refuses a static
// import of it from a CJS file, so it is loaded with require() and typed here. The runtime value classes (StringValue, ObjectValue, ...)
// are not exported by the package; they are recovered once from sample values so that values
// built here pass the library's own `instanceof` checks.
//
// Python-only notions the library lacks are attached on the side:
//  - dicts with non-string keys (`{0: 0, 512: 128}`): ObjectValue whose map key is an encoding
//    (`\0n:512`) and whose original key value is kept in a WeakMap (see dictEntries);
//  - jinja2's Undefined with a hint (`'dict object' has no attribute 'parameters'`);
//  - Python exception names on errors (TemplateRenderError).

/** The library's runtime value (its classes are not exported; this is their common shape). */
export interface RV {
  type: string;
  value: unknown;
  readonly builtins: ReadonlyMap<string, RV>;
  __bool__(): BoolV;
  toString(): string;
}
/** An AST node of the library's parser; every node has a string `type`. */
export interface Node {
  type: string;
}
/** Loosely typed view of AST node fields, for the nodes this project inspects. */
export type AnyNode = Node & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export interface Environment {
  variables: Map<string, RV>;
  set(name: string, value: unknown): RV;
  setVariable(name: string, value: RV): RV;
  lookupVariable(name: string): RV;
}
export interface InterpreterBase {
  global: Environment;
  run(program: Node): RV;
  evaluate(statement: Node | undefined, environment: Environment): RV;
}
interface JinjaModule {
  Environment: new (parent?: Environment) => Environment;
  Interpreter: new (env?: Environment) => InterpreterBase;
  tokenize(source: string, options?: { lstrip_blocks?: boolean; trim_blocks?: boolean }): unknown[];
  parse(tokens: unknown[]): Node;
}
// Typed by hand: the package's .d.ts files use extensionless relative imports that node16
// resolution cannot follow from a CommonJS project.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const jinja = require('@huggingface/jinja') as JinjaModule;

export type StrV = RV & { value: string };
export type NumV = RV & { value: number };
export type BoolV = RV & { value: boolean };
export type ListV = RV & { value: RV[] };
export type MapV = RV & { value: Map<string, RV> };
export type FnV = RV & { value: (args: RV[], scope: Environment) => RV };

type Ctor<T, V extends RV> = new (value: T) => V;

const probeEnv = new jinja.Environment();
let numProbes = 0;
const sample = (v: unknown): RV => probeEnv.set(`__probe${numProbes++}`, v);
const ctorOf = <T, V extends RV>(v: RV): Ctor<T, V> => v.constructor as Ctor<T, V>;

export const StringValue = ctorOf<string, StrV>(sample('s'));
export const IntegerValue = ctorOf<number, NumV>(sample(1));
export const FloatValue = ctorOf<number, NumV>(sample(1.5));
export const BooleanValue = ctorOf<boolean, BoolV>(sample(true));
export const NullValue = ctorOf<null, RV>(sample(null));
export const UndefinedValue = ctorOf<undefined, RV>(sample(undefined));
export const ArrayValue = ctorOf<RV[], ListV>(sample([]));
export const ObjectValue = ctorOf<Map<string, RV>, MapV>(sample({}));
export const FunctionValue = ctorOf<FnV['value'], FnV>(sample(() => 0));
const probeInterpreter = new jinja.Interpreter(probeEnv);
export const TupleValue = ctorOf<RV[], ListV>(
  probeInterpreter.evaluate({ type: 'TupleLiteral', value: [] } as AnyNode, probeEnv),
);
export const NamespaceValue = ctorOf<Map<string, RV>, MapV>(
  (probeEnv.lookupVariable('namespace') as FnV).value([], probeEnv),
);

export const isStr = (v: RV): v is StrV => v instanceof StringValue;
export const isInt = (v: RV): v is NumV => v instanceof IntegerValue;
export const isFloat = (v: RV): v is NumV => v instanceof FloatValue;
export const isBool = (v: RV): v is BoolV => v instanceof BooleanValue;
export const isNone = (v: RV): boolean => v instanceof NullValue;
export const isUndef = (v: RV): boolean => v instanceof UndefinedValue;
export const isList = (v: RV): v is ListV => v instanceof ArrayValue; // lists and tuples
export const isTuple = (v: RV): boolean => v instanceof TupleValue;
export const isNamespace = (v: RV): boolean => v instanceof NamespaceValue;
/** Dicts (ObjectValue); a namespace() is a separate class and never a dict. */
export const isDict = (v: RV): v is MapV => v instanceof ObjectValue;
export const isFn = (v: RV): v is FnV => v instanceof FunctionValue;
/** int, float or bool: the types Python treats as numbers. */
export const isNumeric = (v: RV): v is NumV | BoolV => isInt(v) || isFloat(v) || isBool(v);
export const numOf = (v: NumV | BoolV): number => (isBool(v) ? Number(v.value) : (v as NumV).value);

export const str = (s: string): StrV => new StringValue(s);
export const list = (items: RV[]): ListV => new ArrayValue(items);
export const tuple = (items: RV[]): ListV => new TupleValue(items);
export const bool = (b: boolean): BoolV => new BooleanValue(b);
export const none = (): RV => new NullValue(null);
export const fn = (f: FnV['value']): FnV => new FunctionValue(f);
/** A number of the given Python type (int results stay IntegerValue). */
export const num = (n: number, isFloatResult: boolean): NumV =>
  isFloatResult ? new FloatValue(n) : new IntegerValue(n);

/** An error carrying the Python exception name jinja2 would raise (`TypeError`, `UndefinedError`...). */
export class TemplateRenderError extends Error {
  constructor(pyName: string, message: string) {
    super(message);
    this.name = pyName;
  }
}
export const typeError = (message: string): TemplateRenderError => new TemplateRenderError('TypeError', message);

// ---- jinja2 Undefined with its hint ----
const undefinedHints = new WeakMap<RV, string>();
export function undefinedWithHint(hint: string): RV {
  const u = new UndefinedValue(undefined);
  undefinedHints.set(u, hint);
  return u;
}
export const hasUndefinedHint = (u: RV): boolean => undefinedHints.has(u);
/** What jinja2 raises when an Undefined is used for anything but printing, testing or iterating. */
export function undefinedError(u: RV): TemplateRenderError {
  return new TemplateRenderError('UndefinedError', undefinedHints.get(u) ?? 'value is undefined');
}

// ---- dicts with Python (hashable, possibly non-string) keys ----
const dictKeyObjects = new WeakMap<RV, Map<string, RV>>();
const NON_STRING_KEY = '\u0000';

/** The map key a Python key is stored under; 1, 1.0 and True share one slot, as in Python. */
export function encodeKey(key: RV): string {
  if (isStr(key)) return key.value;
  if (isNumeric(key)) return `${NON_STRING_KEY}n:${numOf(key)}`;
  if (isNone(key)) return `${NON_STRING_KEY}None`;
  throw typeError(`unhashable type: '${key.type.replace(/Value$/, '').toLowerCase()}'`);
}

export function makeDict(entries: Array<[RV, RV]>): MapV {
  const map = new Map<string, RV>();
  const keyObjects = new Map<string, RV>();
  for (const [key, value] of entries) {
    const encoded = encodeKey(key);
    if (!isStr(key) && !keyObjects.has(encoded)) keyObjects.set(encoded, key);
    map.set(encoded, value);
  }
  const dict = new ObjectValue(map);
  if (keyObjects.size > 0) dictKeyObjects.set(dict, keyObjects);
  return dict;
}

/** [key, value] pairs in insertion order, keys as the Python values they were created with. */
export function dictEntries(dict: MapV): Array<[RV, RV]> {
  const keyObjects = dictKeyObjects.get(dict);
  return [...dict.value].map(([k, v]) => [keyObjects?.get(k) ?? str(k), v]);
}
