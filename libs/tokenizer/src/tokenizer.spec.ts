// The real Seed-OSS tokenizer (reference copy, brotli) reproduces the encode fixtures of
// tokenizer_summary.json exactly and round-trips them; special-token handling per its flags.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSeedOssJson, seedOssTokenizerJson } from '../../../test/helpers/seed-oss-fixtures';
import { Tokenizer } from './tokenizer';

const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpserve-seed-tokenizer-'));
fs.writeFileSync(
  path.join(modelDir, 'tokenizer.json'),
  seedOssTokenizerJson(),
);
const tokenizer = Tokenizer.fromModelDir(modelDir);
afterAll(() => fs.rmSync(modelDir, { recursive: true, force: true }));

interface Fixture {
  text: string;
  ids: number[];
  tokens: string[];
  roundtrip: boolean;
}
const summary = readSeedOssJson('tokenizer_summary.json');
const fixtures = summary.fixtures.cases as Fixture[];

describe('Seed-OSS tokenizer fixtures', () => {
  it('has the fixtures', () => expect(fixtures.length).toBeGreaterThanOrEqual(10));

  it.each(fixtures.map((f) => [f.text, f] as const))('encodes %j', (_text, f) => {
    expect(tokenizer.encode(f.text)).toEqual(f.ids);
    expect(tokenizer.encode(f.text, { addSpecialTokens: true })).toEqual(f.ids); // no BOS is ever added
    expect(tokenizer.idsToTokens(f.ids)).toEqual(f.tokens);
    if (f.roundtrip) expect(tokenizer.decode(f.ids)).toBe(f.text);
  });
});

describe('Tokenizer', () => {
  it('knows the vocabulary size and the special token ids by name', () => {
    expect(tokenizer.vocabSize).toBe(summary.vocab_entries);
    expect(tokenizer.vocabSize).toBe(155121);
    const names = ['<seed:bos>', '<seed:pad>', '<seed:eos>', '<seed:think>', '</seed:think>', '<seed:cot_budget_reflect>',
      '</seed:cot_budget_reflect>', '<seed:tool_call>', '</seed:tool_call>'];
    expect(names.map((n) => tokenizer.tokenToId(n))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(tokenizer.tokenToId('Ġworld')).toBe(2725);
    expect(tokenizer.tokenToId('<not a token>')).toBeUndefined();
    expect([...tokenizer.specialIds].sort((a, b) => a - b)).toEqual([0, 1, 2, ...Array.from({ length: 119 }, (_, i) => 9 + i)]);
  });

  it('skipSpecialTokens drops bos/pad/eos/placeholders but keeps think and tool-call tokens', () => {
    const ids = [0, ...tokenizer.encode('<seed:think>hm</seed:think><seed:tool_call>x</seed:tool_call>'), 9, 127, 1, 2];
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe('<seed:think>hm</seed:think><seed:tool_call>x</seed:tool_call>');
    expect(tokenizer.decode(ids)).toBe(
      '<seed:bos><seed:think>hm</seed:think><seed:tool_call>x</seed:tool_call><[PLHD9_never_used]><[PLHD127_never_used]><seed:pad><seed:eos>',
    );
    expect(tokenizer.decode([0, 2], { skipSpecialTokens: true })).toBe('');
    expect(tokenizer.decode([])).toBe('');
  });

  it('does not clean up tokenization spaces unless the config asks', () => {
    const ids = tokenizer.encode('a , b .');
    expect(tokenizer.decode(ids)).toBe('a , b .');
    expect(tokenizer.decode(ids, { cleanUpTokenizationSpaces: true })).toBe('a, b.');
  });

  it('reads bos/eos/pad from tokenizer_config.json (string or AddedToken form)', () => {
    fs.writeFileSync(
      path.join(modelDir, 'tokenizer_config.json'),
      JSON.stringify({ bos_token: '<seed:bos>', eos_token: { content: '<seed:eos>' }, pad_token: '<seed:pad>', additional_special_tokens: ['<seed:think>'] }),
    );
    const withConfig = Tokenizer.fromModelDir(modelDir);
    expect([withConfig.bosTokenId, withConfig.eosTokenId, withConfig.padTokenId]).toEqual([0, 2, 1]);
    expect(withConfig.decode([3, 2], { skipSpecialTokens: true })).toBe('<seed:think>');
    expect(tokenizer.eosTokenId).toBeUndefined();
  });
});
