// Request bodies checked against JSON Schemas (ajv): each endpoint lists its fields in a table
// (field name -> schema; add a field's schema there), compiled once. The first failing keyword
// becomes OpenAI's 400: `param` is the field's path (`messages[0].role`; an item of a list of
// scalars reports the list, `stop`), `code` missing_required_parameter (required),
// invalid_type (type) or invalid_value (ranges, enums, patterns, sizes). null counts as "not
// given" everywhere, as OpenAI treats it: every optional schema allows it (see `optional`).
// Tests: request-validators.spec.ts.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { OpenAiError } from './openai-error';

export type JsonObject = Record<string, unknown>;
export type JsonSchema = Record<string, unknown>;
/** An endpoint's top-level fields: the one place a field's schema lives. */
export type FieldSchemas = Record<string, JsonSchema>;

const ajv = new Ajv({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true });
addFormats(ajv);

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** `schema` that also accepts null (OpenAI: null is "not given"). */
export function optional(schema: JsonSchema): JsonSchema {
  if (schema.type === undefined) return { anyOf: [{ type: 'null' }, schema] };
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return { ...schema, type: [...types, 'null'] };
}

/** An object whose listed properties are checked (others are allowed, as OpenAI's clients send them). */
export function objectOf(properties: FieldSchemas, required: string[] = []): JsonSchema {
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}) };
}

/** Compiles an endpoint's field table into a checker that throws the first error as a 400. */
export function bodyChecker(fields: FieldSchemas): (body: unknown) => JsonObject {
  const validate: ValidateFunction = ajv.compile(objectOf(fields));
  return (body) => {
    if (!isObject(body)) throw OpenAiError.invalid(`The request body must be a JSON object, got ${typeName(body)}`, null, 'invalid_type');
    if (!validate(body)) throw toOpenAiError(validate.errors![0]);
    return body;
  };
}

/** The field's value, undefined when absent or null. */
export function given<T>(body: JsonObject, name: string): T | undefined {
  const value = body[name];
  return value === null ? undefined : (value as T);
}

/** The error's path as OpenAI names it; `asParam`: an item of a list of scalars is the list. */
function pathOf(error: ErrorObject, asParam: boolean): string {
  const segments = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') segments.push(String((error.params as { missingProperty: string }).missingProperty));
  const schemaType = (error.parentSchema as { type?: unknown } | undefined)?.type;
  const isObjectItem = schemaType === 'object' || (Array.isArray(schemaType) && schemaType.includes('object'));
  if (asParam && error.keyword !== 'required' && /^\d+$/.test(segments.at(-1) ?? '') && !isObjectItem) segments.pop();
  return segments.reduce((path, s) => (/^\d+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s), '');
}

function describe(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  const where = pathOf(error, false);
  const got = (value: unknown): string => (typeof value === 'object' && value !== null ? typeName(value) : JSON.stringify(value));
  switch (error.keyword) {
    case 'required':
      return `'${where}' is required`;
    case 'type': {
      const types = String(p.type).split(',').filter((t) => t !== 'null');
      return `'${where}' must be ${types.map((t) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`)).join(' or ')}, got ${typeName(error.data)}`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `'${where}' must be ${p.comparison} ${p.limit}, got ${got(error.data)}`;
    case 'enum':
      return `'${where}' must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${got(error.data)}`;
    case 'const':
      return `'${where}' must be ${JSON.stringify(p.allowedValue)}, got ${got(error.data)}`;
    case 'minItems':
      return p.limit === 1 ? `'${where}' must not be empty` : `'${where}' must have at least ${p.limit} items`;
    case 'maxItems':
      return `'${where}' has ${(error.data as unknown[]).length} items; at most ${p.limit} are allowed`;
    case 'minLength':
      return p.limit === 1 ? `'${where}' must not be empty` : `'${where}' is shorter than ${p.limit} characters`;
    case 'maxLength':
      return `'${where}' is longer than ${p.limit} characters`;
    case 'pattern':
      return `'${where}' must match ${p.pattern}, got ${got(error.data)}`;
    default:
      return `'${where}' ${error.message ?? 'is invalid'}`;
  }
}

function toOpenAiError(error: ErrorObject): OpenAiError {
  const code = error.keyword === 'required' ? 'missing_required_parameter' : error.keyword === 'type' ? 'invalid_type' : 'invalid_value';
  return OpenAiError.invalid(describe(error), pathOf(error, true), code);
}
