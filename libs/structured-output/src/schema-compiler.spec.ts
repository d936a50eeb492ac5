// Property test: over a seeded corpus of generated schemas, every value a random walk through the
// grammar completes is valid JSON that ajv (with ajv-formats) accepts; plus the 400 cases.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { checkGrammarRequest, GrammarCompiler } from './grammar-compiler';
import { SchemaError } from './schema-error';
import { generateSchema } from '../test/schema-corpus';
import { randomWalk } from '../test/random-walk';
import { mulberry32 } from '../../tiny-model/src/seeded-random';
import { EOS_ID, syntheticVocab } from '../test/synthetic-vocab';

const vocab = syntheticVocab();

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv;
}

describe('json_schema grammar', () => {
  it('completes only values that validate, over 150 generated schemas', () => {
    const ajv = newAjv();
    const compiler = new GrammarCompiler(vocab, [EOS_ID]);
    let numEnded = 0;
    for (let i = 0; i < 150; i++) {
      const rand = mulberry32(1000 + i);
      const schema = generateSchema(rand);
      const validate = ajv.compile(schema);
      const grammar = compiler.compile({ kind: 'json_schema', schema });
      for (let w = 0; w < 4; w++) {
        const walk = randomWalk(grammar, rand, 250);
        if (!walk.ended) continue;
        numEnded++;
        const value = JSON.parse(walk.text) as unknown;
        if (!validate(value)) throw new Error(`schema ${JSON.stringify(schema)} text ${walk.text}: ${ajv.errorsText(validate.errors)}`);
      }
    }
    expect(numEnded).toBeGreaterThan(300);
  });

  it('json_object completes only JSON objects', () => {
    const grammar = new GrammarCompiler(vocab, [EOS_ID]).compile({ kind: 'json_object' });
    const rand = mulberry32(7);
    let numEnded = 0;
    for (let w = 0; w < 60; w++) {
      const walk = randomWalk(grammar, rand, 200);
      if (!walk.ended) continue;
      numEnded++;
      const value = JSON.parse(walk.text) as unknown;
      expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true);
    }
    expect(numEnded).toBeGreaterThan(20);
  });

  it('writes required properties in order and closes objects with eos only after the value', () => {
    const schema = { type: 'object', properties: { a: { const: 1 }, b: { type: 'boolean' } }, required: ['a', 'b'] };
    const grammar = new GrammarCompiler(vocab, [EOS_ID]).compile({ kind: 'json_schema', schema });
    for (let seed = 0; seed < 20; seed++) {
      const walk = randomWalk(grammar, mulberry32(seed));
      expect(walk.ended).toBe(true);
      expect(['{"a":1,"b":true}', '{"a":1,"b":false}']).toContain(walk.text);
    }
  });

  it.each([
    [{ type: 'object', properties: { a: { type: 'string', allOf: [] } } }, 'allOf'],
    [{ type: 'array', items: { type: 'integer' }, uniqueItems: true }, 'uniqueItems'],
    [{ type: 'string', pattern: '(?=a)b' }, 'pattern'],
    [{ type: 'string', format: 'email' }, 'format'],
    [{ type: 'strin' }, 'type'],
    [{ $ref: 'https://example.com/s.json' }, '$ref'],
    [{ $ref: '#/$defs/missing' }, '$ref'],
    [{ type: 'integer', minimum: 5, maximum: 4 }, 'minimum'],
    [{ type: 'number', multipleOf: 2 }, 'multipleOf'],
  ])('refuses %j naming %s', (schema, keyword) => {
    try {
      checkGrammarRequest({ kind: 'json_schema', schema });
      expect.unreachable('no SchemaError');
    } catch (e) {
      expect(e).toBeInstanceOf(SchemaError);
      expect((e as SchemaError).keyword).toBe(keyword);
      expect((e as Error).message).toContain(keyword);
    }
  });
});
