// A seeded generator of JSON Schemas over the supported keywords (nested objects, arrays with
// bounds, strings with lengths / patterns / formats, bounded numbers, enums, const, anyOf, oneOf
// with disjoint branches, type lists, $ref / $defs), for the ajv property tests.

type Schema = Record<string, unknown>;

const PATTERNS = ['^[a-z]+$', '^\\d{3}-\\d{4}$', '^(foo|bar)+$', 'ab', '^[A-Z][a-z]{0,5}$', '^\\w+@\\w+\\.com$', '^[^"\\\\]{2,}$', '^é?[0-9]*$'];
const FORMATS = ['date', 'time', 'date-time', 'uuid'];
const NAMES = ['id', 'name', 'value', 'tags', 'a b', 'ünï', 'x"y', 'nested', 'count', 'ok'];

export function generateSchema(rand: () => number): Schema {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const defs: Schema = {};

  const gen = (depth: number): Schema => {
    const kinds = depth >= 3 ? ['string', 'integer', 'number', 'boolean', 'null', 'enum'] :
      ['object', 'object', 'array', 'string', 'integer', 'number', 'boolean', 'enum', 'const', 'anyOf', 'oneOf', 'typeList', 'ref'];
    switch (pick(kinds)) {
      case 'object': {
        const names = [...new Set(Array.from({ length: int(1, 4) }, () => pick(NAMES)))];
        const properties: Schema = {};
        for (const n of names) properties[n] = gen(depth + 1);
        const required = names.filter(() => rand() < 0.6);
        const s: Schema = { type: 'object', properties, required };
        if (rand() < 0.2) s.additionalProperties = rand() < 0.5 ? true : { type: 'integer' };
        else s.additionalProperties = false;
        return s;
      }
      case 'array': {
        const s: Schema = { type: 'array', items: gen(depth + 1) };
        if (rand() < 0.5) s.minItems = int(0, 2);
        if (rand() < 0.5) s.maxItems = int((s.minItems as number | undefined) ?? 0, 4);
        return s;
      }
      case 'string': {
        const s: Schema = { type: 'string' };
        const r = rand();
        if (r < 0.25) s.pattern = pick(PATTERNS);
        else if (r < 0.45) s.format = pick(FORMATS);
        else {
          if (rand() < 0.5) s.minLength = int(0, 3);
          if (rand() < 0.5) s.maxLength = int((s.minLength as number | undefined) ?? 0, 8);
        }
        return s;
      }
      case 'integer': case 'number': {
        const s: Schema = { type: rand() < 0.5 ? 'integer' : 'number' };
        if (rand() < 0.6) s.minimum = int(-50, 50);
        if (rand() < 0.6) s.maximum = ((s.minimum as number | undefined) ?? -50) + int(1, 200);
        if (rand() < 0.2 && s.minimum !== undefined) s.exclusiveMinimum = (s.minimum as number) - 1;
        return s;
      }
      case 'boolean': return { type: 'boolean' };
      case 'null': return { type: 'null' };
      case 'enum': return { enum: pick([['red', 'green', 'blue'], [1, 2, 3], ['a', 1, null, true], ['x"y', 'ü']]) };
      case 'const': return { const: pick(['fixed', 42, false, { k: [1, 'v'] }]) };
      case 'anyOf': return { anyOf: [gen(depth + 1), gen(depth + 1)] };
      case 'oneOf': return { oneOf: [{ type: 'string', maxLength: 5 }, { type: 'integer' }, { type: 'array', items: gen(depth + 2), maxItems: 2 }] };
      case 'typeList': return { type: ['string', 'null'], maxLength: int(1, 6) };
      default: {
        const name = `d${Object.keys(defs).length}`;
        defs[name] = {}; // reserve the name before generating (a nested $ref takes the next one)
        defs[name] = gen(depth + 1);
        return { $ref: `#/$defs/${name}` };
      }
    }
  };
  const root = gen(0);
  return Object.keys(defs).length > 0 ? { ...root, $defs: defs } : root;
}
