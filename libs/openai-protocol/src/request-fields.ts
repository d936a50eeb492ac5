// Typed readers of request-body fields: each returns the value (undefined when absent or null, as
// OpenAI treats null as "not given") or throws a 400 OpenAiError naming the parameter and what it
// expected. Used by the chat and completions validators.
import { OpenAiError } from './openai-error';

export type JsonObject = Record<string, unknown>;

export interface NumberRange {
  min?: number;
  max?: number;
  /** min / max themselves are not allowed. */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  integer?: boolean;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function describeRange(r: NumberRange): string {
  const lo = r.min === undefined ? '' : `${r.minExclusive ? '>' : '>='} ${r.min}`;
  const hi = r.max === undefined ? '' : `${r.maxExclusive ? '<' : '<='} ${r.max}`;
  return [lo, hi].filter(Boolean).join(' and ');
}

/** Checks a number against a range; throws naming `param`. */
export function checkNumber(value: unknown, param: string, range: NumberRange = {}): number {
  const kind = range.integer ? 'an integer' : 'a number';
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw OpenAiError.invalid(`'${param}' must be ${kind}, got ${typeName(value)}${typeof value === 'number' ? ` ${value}` : ''}`, param, 'invalid_type');
  }
  if (range.integer && !Number.isSafeInteger(value)) {
    throw OpenAiError.invalid(`'${param}' must be ${kind}, got ${value}`, param, 'invalid_type');
  }
  const tooLow = range.min !== undefined && (range.minExclusive ? value <= range.min : value < range.min);
  const tooHigh = range.max !== undefined && (range.maxExclusive ? value >= range.max : value > range.max);
  if (tooLow || tooHigh) {
    throw OpenAiError.invalid(`'${param}' must be ${describeRange(range)}, got ${value}`, param, 'invalid_value');
  }
  return value;
}

/** Reads the fields of one JSON object (the body, or a nested object with a param prefix). */
export class FieldReader {
  constructor(
    readonly body: JsonObject,
    private readonly prefix = '',
  ) {}

  param(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  raw(name: string): unknown {
    const value = this.body[name];
    return value === null ? undefined : value;
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  number(name: string, range: NumberRange = {}): number | undefined {
    const value = this.raw(name);
    return value === undefined ? undefined : checkNumber(value, this.param(name), range);
  }

  int(name: string, range: Omit<NumberRange, 'integer'> = {}): number | undefined {
    return this.number(name, { ...range, integer: true });
  }

  bool(name: string): boolean | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw this.typeError(name, 'a boolean', value);
    return value;
  }

  string(name: string, options: { maxLength?: number; nonEmpty?: boolean } = {}): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw this.typeError(name, 'a string', value);
    if (options.nonEmpty && value.length === 0) throw OpenAiError.invalid(`'${this.param(name)}' must not be empty`, this.param(name), 'invalid_value');
    if (options.maxLength !== undefined && value.length > options.maxLength) {
      throw OpenAiError.invalid(`'${this.param(name)}' is longer than ${options.maxLength} characters`, this.param(name), 'invalid_value');
    }
    return value;
  }

  object(name: string): JsonObject | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!isObject(value)) throw this.typeError(name, 'an object', value);
    return value;
  }

  array(name: string, options: { maxItems?: number; nonEmpty?: boolean } = {}): unknown[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw this.typeError(name, 'an array', value);
    if (options.nonEmpty && value.length === 0) {
      throw OpenAiError.invalid(`'${this.param(name)}' must not be empty`, this.param(name), 'invalid_value');
    }
    if (options.maxItems !== undefined && value.length > options.maxItems) {
      throw OpenAiError.invalid(`'${this.param(name)}' has ${value.length} items; at most ${options.maxItems} are allowed`, this.param(name), 'invalid_value');
    }
    return value;
  }

  /** A string, or an array of strings (OpenAI's `stop`). */
  stringList(name: string, options: { maxItems: number; maxLength: number }): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list)) throw this.typeError(name, 'a string or an array of strings', value);
    if (list.length > options.maxItems) {
      throw OpenAiError.invalid(`'${this.param(name)}' has ${list.length} items; at most ${options.maxItems} are allowed`, this.param(name), 'invalid_value');
    }
    list.forEach((item, i) => {
      if (typeof item !== 'string') throw this.typeError(`${name}[${i}]`, 'a string', item, `${this.param(name)}`);
      if (item.length > options.maxLength) {
        throw OpenAiError.invalid(`'${this.param(name)}[${i}]' is longer than ${options.maxLength} characters`, this.param(name), 'invalid_value');
      }
    });
    return list as string[];
  }

  typeError(name: string, expected: string, value: unknown, param = this.param(name)): OpenAiError {
    const shown = this.prefix ? `${this.prefix}.${name}` : name;
    return OpenAiError.invalid(`'${shown}' must be ${expected}, got ${typeName(value)}`, param, 'invalid_type');
  }
}
