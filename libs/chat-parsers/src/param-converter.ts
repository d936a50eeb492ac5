// Converts a raw Seed tool-call parameter value (the text between `<parameter=NAME>` and
// `</parameter>`) to the JSON text of its value, typed by the tool's JSON schema. Follows vLLM's
// seed_oss parser so the arguments text matches it; where vLLM is weaker the schema is read more
// fully (type lists / anyOf with "string" keep strings, JSON true/false/null accepted in arrays).
// Tested by param-converter.spec.ts.
//
// - one leading and one trailing "\n" of the raw value are stripped;
// - `null` in any case is JSON null, whatever the declared type;
// - unknown function / undeclared parameter / no schema type: string as written;
// - integer: Python int() syntax, else stays a string; number: float() syntax, integral → int;
// - boolean: "true" (any case) is true, anything else false (vLLM's rule);
// - object / array / anything else: JSON or Python literal, else stays a string.

import type { ChatCompletionTool } from '../../openai-protocol/src/tool-call.types';
import { parseLiteralToJson } from './literal-parser';
import { canonicalInteger, jsonString, numberJson } from './python-json';

/** A parameter's JSON schema, as far as conversion needs it. */
export type ParamSchema = Record<string, unknown>;

const STRING_TYPES = new Set(['string', 'str', 'text', 'varchar', 'char', 'enum']);
const BOOLEAN_TYPES = new Set(['boolean', 'bool', 'binary']);
const INT_PREFIXES = ['int', 'uint', 'long', 'short', 'unsigned'];
const INT_RE = /^[+-]?\d+(?:_\d+)*$/;
const FLOAT_RE = /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;

/** The `properties` of the named tool's parameters; null when the tool is not declared. */
export function findToolParamSchemas(
  tools: readonly ChatCompletionTool[] | null | undefined,
  functionName: string,
): Record<string, ParamSchema> | null {
  const tool = tools?.find((t) => t.type === 'function' && t.function?.name === functionName);
  if (tool === undefined) return null;
  const properties = tool.function.parameters?.properties;
  return isObject(properties) ? (properties as Record<string, ParamSchema>) : {};
}

/** The one type a value is converted to: "string" when strings are allowed at all. */
export function resolveParamType(schema: unknown): string {
  if (!isObject(schema)) return 'string';
  const types = collectTypes(schema);
  if (types.length === 0) {
    const values = Array.isArray(schema.enum) ? schema.enum : null;
    if (values !== null && values.length > 0 && !values.every((v) => typeof v === 'string')) return 'any';
    return 'string';
  }
  if (types.some((t) => STRING_TYPES.has(t))) return 'string';
  return types.find((t) => t !== 'null') ?? 'null';
}

function collectTypes(schema: Record<string, unknown>): string[] {
  const { type } = schema;
  if (typeof type === 'string') return [type.trim().toLowerCase()];
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string').map((t) => t.trim().toLowerCase());
  const branches = [schema.anyOf, schema.oneOf].find(Array.isArray) as unknown[] | undefined;
  return branches ? branches.flatMap((b) => (isObject(b) ? collectTypes(b) : [])) : [];
}

/** JSON text of one parameter value; `schema` undefined means "not declared" (kept as a string). */
export function convertParamValue(rawValue: string, schema: ParamSchema | undefined): string {
  let value = rawValue.startsWith('\n') ? rawValue.slice(1) : rawValue;
  if (value.endsWith('\n')) value = value.slice(0, -1);
  if (value.toLowerCase() === 'null') return 'null';
  if (schema === undefined) return jsonString(value);
  const type = resolveParamType(schema);
  if (STRING_TYPES.has(type)) return jsonString(value);
  if (INT_PREFIXES.some((p) => type.startsWith(p))) {
    const text = value.trim();
    return INT_RE.test(text) ? canonicalInteger(text) : jsonString(value);
  }
  if (type.startsWith('num') || type.startsWith('float')) {
    const text = value.trim();
    const number = FLOAT_RE.test(text) ? Number(text.replace(/_/g, '')) : NaN;
    return Number.isFinite(number) ? numberJson(number) : jsonString(value);
  }
  if (BOOLEAN_TYPES.has(type)) return value.toLowerCase() === 'true' ? 'true' : 'false';
  return parseLiteralToJson(value) ?? jsonString(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
