// Forced Seed tool calls: every completed walk parses with the Seed tool parser into calls of
// declared tools whose arguments validate (ajv) against the tool's parameter schema.
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { extractToolCalls } from '../../chat-parsers/src/seed-tool-parser';
import { GrammarCompiler } from './grammar-compiler';
import { randomWalk } from '../test/random-walk';
import { mulberry32 } from '../../tiny-model/src/seeded-random';
import { EOS_ID, syntheticVocab } from '../test/synthetic-vocab';

const TOOLS = [
  { name: 'get_weather', parameters: { type: 'object', properties: {
    city: { type: 'string', minLength: 1, maxLength: 12 }, days: { type: 'integer', minimum: 1, maximum: 7 },
    unit: { enum: ['celsius', 'fahrenheit'] }, flags: { type: 'array', items: { type: 'boolean' }, maxItems: 3 } }, required: ['city', 'days'] } },
  { name: 'noop', parameters: { type: 'object', properties: {} } },
];

describe('Seed tool-call grammar', () => {
  it('completes only calls that parse into valid arguments', () => {
    const ajv = new Ajv({ strict: false });
    const validators = new Map(TOOLS.map((t) => [t.name, ajv.compile(t.parameters)]));
    const grammar = new GrammarCompiler(syntheticVocab(), [EOS_ID]).compile({ kind: 'tool_call', tools: TOOLS });
    const rand = mulberry32(5);
    let numEnded = 0;
    for (let w = 0; w < 60; w++) {
      const walk = randomWalk(grammar, rand, 300);
      if (!walk.ended) continue;
      numEnded++;
      expect(walk.text.startsWith('<seed:tool_call>\n<function=')).toBe(true);
      const { toolCalls, content } = extractToolCalls(walk.text, { tools: TOOLS.map((t) => ({ type: 'function' as const, function: t })) });
      expect(content).toBeNull();
      expect(toolCalls.length).toBeGreaterThan(0);
      for (const call of toolCalls) {
        const validate = validators.get(call.function.name)!;
        expect(validate(JSON.parse(call.function.arguments)), `${walk.text} -> ${call.function.arguments}`).toBe(true);
      }
    }
    expect(numEnded).toBeGreaterThan(15);
  });
});
