// The pattern DFA against JavaScript's own RegExp (with the `u` flag, as ajv runs patterns) on
// random strings over a small alphabet, and the formats against ajv-formats.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { CodePointDfa } from './code-point-dfa';
import { UnsupportedRegexError } from './regex-parser';
import { FORMAT_PATTERNS } from './string-formats';
import { mulberry32 } from '../../tiny-model/src/seeded-random';

function matches(dfa: CodePointDfa, text: string): boolean {
  let s = dfa.start;
  for (const ch of text) s = dfa.step(s, ch.codePointAt(0)!);
  return dfa.isAccepting(s);
}

const PATTERNS = ['^[a-c]+$', 'ab', '^a{2,3}b?$', '^(ab|c)*$', '^\\d{2}-\\w$', '^[^a]b.$', 'a|b', '^(?:x|yz){1,2}$', '^[\\s\\S]?$', 'c$', '^é+[0-9-]$'];
const ALPHABET = ['a', 'b', 'c', 'x', 'y', 'z', '1', '2', '-', '_', ' ', '\n', 'é'];

describe('CodePointDfa', () => {
  it.each(PATTERNS)('agrees with RegExp on %s', (pattern) => {
    const dfa = CodePointDfa.fromPattern(pattern);
    const re = new RegExp(pattern, 'u');
    const rand = mulberry32(3);
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: Math.floor(rand() * 6) }, () => ALPHABET[Math.floor(rand() * ALPHABET.length)]).join('');
      expect(matches(dfa, text), JSON.stringify(text)).toBe(re.test(text));
    }
  });

  it.each(['(?=a)', '\\1', 'a\\b', '(?<n>a)', 'a{1000}'])('refuses %s', (pattern) => {
    expect(() => CodePointDfa.fromPattern(pattern)).toThrow(UnsupportedRegexError);
  });

  it('format patterns accept only what ajv-formats accepts', () => {
    const ajv = new Ajv();
    addFormats(ajv);
    const samples: Record<string, string[]> = {
      date: ['2024-02-28', '2024-04-30', '2024-12-31'],
      time: ['23:59:59Z', '00:00:00.5+02:00'],
      'date-time': ['2024-01-31T12:00:00Z'],
      uuid: ['123e4567-e89b-12d3-a456-426614174000'],
    };
    for (const [format, pattern] of Object.entries(FORMAT_PATTERNS)) {
      const dfa = CodePointDfa.fromPattern(pattern);
      const validate = ajv.compile({ type: 'string', format });
      for (const s of samples[format]) {
        expect(matches(dfa, s)).toBe(true);
        expect(validate(s)).toBe(true);
      }
      expect(matches(dfa, '2024-02-30')).toBe(false);
    }
  });
});
