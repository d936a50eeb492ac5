// Parameter conversion: Python-style JSON text (floats, big ints), the JSON / Python literal
// parser, and the schema-typed conversion rules (vLLM's, plus type lists and anyOf).
import { describe, expect, it } from 'vitest';
import { parseLiteralToJson } from './literal-parser';
import { convertParamValue, findToolParamSchemas, resolveParamType } from './param-converter';
import { numberJson } from './python-json';

describe('numberJson', () => {
  it('numberJson: integral values print as ints, exactly', () => {
    expect(numberJson(2)).toBe('2');
    expect(numberJson(1e20)).toBe('100000000000000000000');
    expect(numberJson(-0)).toBe('0');
    expect(numberJson(2.5)).toBe('2.5');
  });
});

describe('parseLiteralToJson (json.loads / ast.literal_eval, re-serialized)', () => {
  it.each([
    ['{"k": [1, 2]}', '{"k": [1, 2]}'],
    ['{"a":1,"b":{"c":true}}', '{"a": 1, "b": {"c": true}}'],
    ["[1, 'two', None]", '[1, "two", null]'],
    ["{'k': 1}", '{"k": 1}'],
    ['[true, false, null]', '[true, false, null]'],
    ['[True, False]', '[true, false]'],
    ['(1, 2)', '[1, 2]'], ['(1,)', '[1]'], ['()', '[]'], ['(5)', '5'],
    ['[1, 2,]', '[1, 2]'],
    ['{1: "a", 2.5: "b", None: 0, False: 1}', '{"1": "a", "2.5": "b", "null": 0, "false": 1}'],
    ['1.0', '1.0'], ['1e5', '100000.0'], ['-7', '-7'], ['+7', '7'], ['- 7', '-7'], ['1_000', '1000'], ['0x1F', '31'],
    ['.5', '0.5'], ['12345678901234567890123', '12345678901234567890123'], ['00', '0'],
    ['"caf\\u00e9 \\n"', '"café \\n"'], ["'it\\'s'", '"it\'s"'], ['"\\ud83d\\ude00"', '"😀"'], ["'a\\x41\\101'", '"aAA"'],
    ['"\\d"', '"\\\\d"'], ['  [ 1 ,2 ]  ', '[1, 2]'], ['"é"', '"é"'],
  ])('%s -> %s', (text, json) => expect(parseLiteralToJson(text)).toBe(json));

  it.each([
    'hello', '', '{1, 2}', '[1, 2', "{'a' 1}", '007', '1e999', 'inf', 'NaN', '1j', '--1', '"abc', 'b"x"', '[1] 2',
    '{(1, 2): 3}', '1_', '"a\nb"', "'''x'''",
  ])('%j is not a literal', (text) => expect(parseLiteralToJson(text)).toBeNull());
});

describe('convertParamValue', () => {
  const t = (type: unknown, extra: Record<string, unknown> = {}) => ({ type, ...extra });
  it.each([
    ['string keeps leading zeros', '007', t('string'), '"007"'],
    ['integer', '\n42\n', t('integer'), '42'],
    ['integer with spaces and sign', ' +42 ', t('integer'), '42'],
    ['big integer stays exact', '123456789012345678901234567890', t('integer'), '123456789012345678901234567890'],
    ['integer that is not one stays a string', 'abc', t('integer'), '"abc"'],
    ['integer rejects a float', '4.0', t('integer'), '"4.0"'],
    ['number integral -> int', '2.0', t('number'), '2'],
    ['number', '2.5', t('number'), '2.5'],
    ['number not one', 'two', t('number'), '"two"'],
    ['number inf stays a string', 'inf', t('number'), '"inf"'],
    ['boolean True', 'True', t('boolean'), 'true'],
    ['boolean other -> false (vLLM)', 'yes', t('boolean'), 'false'],
    ['object JSON', '{"k": [1, 2]}', t('object'), '{"k": [1, 2]}'],
    ['object Python', "{'k': 1}", t('object'), '{"k": 1}'],
    ['array Python', "[1, 'two', None]", t('array'), '[1, "two", null]'],
    ['array JSON booleans', '[true, false]', t('array'), '[true, false]'],
    ['array broken stays a string', '[1, 2', t('array'), '"[1, 2"'],
    ['null for any type', 'NULL', t('string'), 'null'],
    ['null after newline strip', '\nnull\n', t('integer'), 'null'],
    ['only one newline each side stripped', '\n\nx\n\n', t('string'), '"\\nx\\n"'],
    ['type list with string keeps strings', '42', t(['string', 'null']), '"42"'],
    ['type list integer|null', '42', t(['integer', 'null']), '42'],
    ['anyOf with integer', '42', { anyOf: [{ type: 'integer' }, { type: 'null' }] }, '42'],
    ['no type: string', '42', {}, '"42"'],
    ['string enum', 'x', { enum: ['x', 'y'] }, '"x"'],
    ['numeric enum', '2', { enum: [1, 2] }, '2'],
    ['vLLM aliases: int64', '9', t('int64'), '9'],
    ['undeclared parameter', '3', undefined, '"3"'],
  ])('%s', (_, raw, schema, json) => expect(convertParamValue(raw, schema)).toBe(json));

  it('resolveParamType', () => {
    expect(resolveParamType({ type: ' Integer ' })).toBe('integer');
    expect(resolveParamType({ type: ['null', 'number'] })).toBe('number');
    expect(resolveParamType('nonsense')).toBe('string');
  });

  it('findToolParamSchemas: declared tools only; own properties', () => {
    const tools = [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'integer' } } } } }];
    expect(findToolParamSchemas(tools, 'f')).toEqual({ a: { type: 'integer' } });
    expect(findToolParamSchemas(tools, 'g')).toBeNull();
    expect(findToolParamSchemas(null, 'f')).toBeNull();
    expect(findToolParamSchemas([{ type: 'function', function: { name: 'h' } }], 'h')).toEqual({});
  });
});
