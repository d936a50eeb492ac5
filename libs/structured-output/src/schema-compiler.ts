// JSON Schema -> grammar nodes. Supported: type (and type lists), properties, required,
// additionalProperties (absent = false, as in OpenAI strict mode and xgrammar), enum, const,
// items, minItems, maxItems, minLength, maxLength, pattern (regex-parser.ts's subset), format
// (string-formats.ts), minimum, maximum, exclusiveMinimum, exclusiveMaximum, anyOf, oneOf
// (matched as anyOf: give disjoint branches), $ref into the same document ($defs, definitions,
// "#"), and annotations. Any other keyword throws SchemaError naming it. Properties are written
// in the schema's order, without whitespace. Tests: schema-compiler.spec.ts (ajv over a corpus).
import { CodePointDfa } from './code-point-dfa';
import { NodeFactory, type GrammarNode, type StringSpec } from './grammar-node';
import { UnsupportedRegexError } from './regex-parser';
import { SchemaError } from './schema-error';
import { FORMAT_PATTERNS } from './string-formats';

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', '$schema', '$id', '$comment', 'deprecated',
  'readOnly', 'writeOnly', '$defs', 'definitions', 'strict']);
const KEYWORDS = new Set(['type', 'properties', 'required', 'additionalProperties', 'enum', 'const', 'items', 'minItems',
  'maxItems', 'minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'anyOf', 'oneOf', '$ref']);
const TYPES = ['object', 'array', 'string', 'integer', 'number', 'boolean', 'null'];

export interface CompileOptions {
  /** Strings are raw text (Seed tool-call parameters) instead of quoted JSON. */
  rawStrings?: boolean;
}

export class SchemaCompiler {
  private readonly compiled = new Map<unknown, GrammarNode>();
  private anyNode: GrammarNode | null = null;

  constructor(private readonly nodes: NodeFactory, private readonly root: unknown) {}

  /** The grammar of a JSON value valid against `schema` (a sub-schema of the root, or the root). */
  compile(schema: unknown = this.root, pointer = '', options: CompileOptions = {}): GrammarNode {
    if (schema === true) return this.any();
    if (schema === false) throw new SchemaError('false', pointer, 'a false schema accepts no value');
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      throw new SchemaError('type', pointer, 'a schema must be an object or a boolean');
    }
    const cacheKey = options.rawStrings ? undefined : schema;
    const cached = cacheKey && this.compiled.get(cacheKey);
    if (cached) return cached;
    // placeholder first, so a $ref cycle back to this schema finds it
    const node = this.nodes.make({ kind: 'choice', branches: [] as GrammarNode[] });
    if (cacheKey) this.compiled.set(cacheKey, node);
    node.branches.push(this.compileObject(schema as Schema, pointer, options));
    return node;
  }

  /** Any JSON value (json_object's members, `{}` and `true` schemas). */
  any(): GrammarNode {
    if (this.anyNode) return this.anyNode;
    const n = this.nodes;
    const node = n.make({ kind: 'choice', branches: [] as GrammarNode[] });
    this.anyNode = node;
    const str = this.stringNode({}, '', {});
    node.branches.push(
      this.objectNode([], node),
      n.make({ kind: 'array', spec: { item: node, minItems: 0, maxItems: Infinity } }),
      str,
      n.make({ kind: 'number', spec: { integer: false, min: -Infinity, max: Infinity, minExclusive: false, maxExclusive: false } }),
      n.literal('true'), n.literal('false'), n.literal('null'),
    );
    return node;
  }

  /** An object: declared members in order, then `extra` members (any key not declared) when given. */
  objectNode(members: Array<{ name: string; node: GrammarNode; required: boolean }>, extra: GrammarNode | null): GrammarNode {
    const n = this.nodes;
    const spec = {
      open: '{', close: '}', separator: ',',
      members: members.map((m) => ({ node: n.sequence([n.literal(JSON.stringify(m.name) + ':'), m.node]), required: m.required })),
      extra: extra && n.sequence([this.keyNode(new Set(members.map((m) => m.name))), n.literal(':'), extra]),
    };
    return n.make({ kind: 'members', spec });
  }

  private keyNode(excluded: Set<string>): GrammarNode {
    return this.nodes.make({ kind: 'string', spec: { minLength: 0, maxLength: Infinity, dfa: null, raw: false, excluded } });
  }

  private compileObject(s: Schema, pointer: string, options: CompileOptions): GrammarNode {
    for (const key of Object.keys(s)) {
      if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key) && !key.startsWith('x-')) {
        throw new SchemaError(key, pointer, `'${key}' is not supported by structured outputs`);
      }
    }
    if (s.$ref !== undefined) return this.compile(this.resolveRef(s.$ref, pointer), `${pointer}/$ref`, options);
    for (const key of ['anyOf', 'oneOf'] as const) {
      if (s[key] === undefined) continue;
      const branches = s[key];
      if (!Array.isArray(branches) || branches.length === 0) throw new SchemaError(key, pointer, `'${key}' must be a non-empty array`);
      return this.nodes.choice(branches.map((b, i) => this.compile(b, `${pointer}/${key}/${i}`, options)));
    }
    if (s.enum !== undefined || s.const !== undefined) return this.literals(s, pointer, options);
    const types = this.types(s, pointer);
    return this.nodes.choice(types.map((t) => this.typed(t, s, pointer, options)));
  }

  private types(s: Schema, pointer: string): string[] {
    const { type } = s;
    if (type === undefined) {
      if (s.properties !== undefined || s.required !== undefined || s.additionalProperties !== undefined) return ['object'];
      if (s.items !== undefined || s.minItems !== undefined || s.maxItems !== undefined) return ['array'];
      if (s.minLength !== undefined || s.maxLength !== undefined || s.pattern !== undefined || s.format !== undefined) return ['string'];
      if (s.minimum !== undefined || s.maximum !== undefined || s.exclusiveMinimum !== undefined || s.exclusiveMaximum !== undefined) return ['number'];
      return ['any'];
    }
    const list = Array.isArray(type) ? type : [type];
    for (const t of list) {
      if (typeof t !== 'string' || !TYPES.includes(t)) throw new SchemaError('type', pointer, `unknown type ${JSON.stringify(t)}`);
    }
    if (list.length === 0) throw new SchemaError('type', pointer, "'type' must not be empty");
    return list as string[];
  }

  private typed(type: string, s: Schema, pointer: string, options: CompileOptions): GrammarNode {
    const n = this.nodes;
    switch (type) {
      case 'any': return this.any();
      case 'null': return n.literal('null');
      case 'boolean': return n.choice([n.literal('true'), n.literal('false')]);
      case 'string': return this.stringNode(s, pointer, options);
      case 'integer': case 'number': return this.numberNode(type === 'integer', s, pointer);
      case 'array': {
        const minItems = this.count(s, 'minItems', pointer) ?? 0;
        const maxItems = this.count(s, 'maxItems', pointer) ?? Infinity;
        if (minItems > maxItems) throw new SchemaError('minItems', pointer, 'minItems is above maxItems');
        if (Array.isArray(s.items)) throw new SchemaError('items', pointer, "tuple 'items' (an array) is not supported");
        const item = s.items === undefined ? this.any() : this.compile(s.items, `${pointer}/items`);
        return n.make({ kind: 'array', spec: { item, minItems, maxItems } });
      }
      default: return this.objectSchema(s, pointer);
    }
  }

  private objectSchema(s: Schema, pointer: string): GrammarNode {
    const props = s.properties ?? {};
    if (typeof props !== 'object' || props === null || Array.isArray(props)) throw new SchemaError('properties', pointer, "'properties' must be an object");
    const required = s.required ?? [];
    if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) throw new SchemaError('required', pointer, "'required' must be an array of strings");
    const declared = Object.entries(props as Schema);
    for (const r of required as string[]) if (!(r in (props as Schema))) declared.push([r, true]);
    const members = declared.map(([name, sub]) => ({
      name, required: (required as string[]).includes(name), node: this.compile(sub, `${pointer}/properties/${escapePointer(name)}`),
    }));
    const additional = s.additionalProperties;
    const extra = additional === undefined || additional === false ? null : this.compile(additional, `${pointer}/additionalProperties`);
    return this.objectNode(members, extra);
  }

  stringNode(s: Schema, pointer: string, options: CompileOptions): GrammarNode {
    const minLength = this.count(s, 'minLength', pointer) ?? 0;
    const maxLength = this.count(s, 'maxLength', pointer) ?? Infinity;
    if (minLength > maxLength) throw new SchemaError('minLength', pointer, 'minLength is above maxLength');
    if (s.pattern !== undefined && s.format !== undefined) throw new SchemaError('format', pointer, "'format' together with 'pattern' is not supported");
    let pattern: string | null = null;
    let keyword = 'pattern';
    if (s.format !== undefined) {
      keyword = 'format';
      pattern = typeof s.format === 'string' ? FORMAT_PATTERNS[s.format] ?? null : null;
      if (pattern === null) throw new SchemaError('format', pointer, `format ${JSON.stringify(s.format)} is not supported (${Object.keys(FORMAT_PATTERNS).join(', ')})`);
    } else if (s.pattern !== undefined) {
      if (typeof s.pattern !== 'string') throw new SchemaError('pattern', pointer, "'pattern' must be a string");
      pattern = s.pattern;
    }
    let dfa: CodePointDfa | null = null;
    try {
      dfa = pattern === null ? null : CodePointDfa.fromPattern(pattern);
    } catch (e) {
      if (e instanceof UnsupportedRegexError || e instanceof RangeError) throw new SchemaError(keyword, pointer, `pattern ${JSON.stringify(pattern)}: ${e.message}`);
      throw e;
    }
    const spec: StringSpec = { minLength, maxLength, dfa, raw: options.rawStrings === true, excluded: null };
    return this.nodes.make({ kind: 'string', spec });
  }

  private numberNode(integer: boolean, s: Schema, pointer: string): GrammarNode {
    const bound = (key: string): number | undefined => {
      const v = s[key];
      if (v === undefined || typeof v === 'boolean') return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new SchemaError(key, pointer, `'${key}' must be a number`);
      return v;
    };
    // draft-4 form: exclusiveMinimum: true makes `minimum` exclusive
    let min = bound('minimum') ?? -Infinity, max = bound('maximum') ?? Infinity;
    let minExclusive = s.exclusiveMinimum === true, maxExclusive = s.exclusiveMaximum === true;
    const exMin = bound('exclusiveMinimum'), exMax = bound('exclusiveMaximum');
    if (exMin !== undefined && exMin >= min) [min, minExclusive] = [exMin, true];
    if (exMax !== undefined && exMax <= max) [max, maxExclusive] = [exMax, true];
    if (integer) {
      min = minExclusive ? Math.floor(min) + 1 : Math.ceil(min);
      max = maxExclusive ? Math.ceil(max) - 1 : Math.floor(max);
      minExclusive = maxExclusive = false;
    }
    if (min > max || (min === max && (minExclusive || maxExclusive))) throw new SchemaError('minimum', pointer, 'no number lies between the bounds');
    return this.nodes.make({ kind: 'number', spec: { integer, min, max, minExclusive, maxExclusive } });
  }

  private literals(s: Schema, pointer: string, options: CompileOptions): GrammarNode {
    const values = s.const !== undefined ? [s.const] : s.enum;
    const keyword = s.const !== undefined ? 'const' : 'enum';
    if (!Array.isArray(values) || values.length === 0) throw new SchemaError(keyword, pointer, `'${keyword}' must be a non-empty array`);
    const texts = values.map((v) => (options.rawStrings && typeof v === 'string' ? v : JSON.stringify(v)));
    if (texts.some((t) => t === '')) throw new SchemaError(keyword, pointer, 'an empty string value cannot be a raw parameter');
    return this.nodes.choice([...new Set(texts)].map((t) => this.nodes.literal(t)));
  }

  private count(s: Schema, key: string, pointer: string): number | undefined {
    const v = s[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new SchemaError(key, pointer, `'${key}' must be a non-negative integer`);
    return v;
  }

  private resolveRef(ref: unknown, pointer: string): unknown {
    if (typeof ref !== 'string' || !ref.startsWith('#')) throw new SchemaError('$ref', pointer, `only local references ('#/...') are supported, got ${JSON.stringify(ref)}`);
    let target: unknown = this.root;
    for (const part of ref.slice(1).split('/').slice(1)) {
      const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
      target = typeof target === 'object' && target !== null ? (target as Schema)[key] : undefined;
      if (target === undefined) throw new SchemaError('$ref', pointer, `reference ${JSON.stringify(ref)} does not resolve`);
    }
    return target;
  }
}

function escapePointer(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}
