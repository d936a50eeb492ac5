// The generated tokenizer, loaded by @huggingface/tokenizers: Seed-OSS's special tokens at ids 0..8,
// byte tokens at 128..383, valid merges, and exact encode/decode round trips of mixed text.
import { beforeAll, describe, expect, it } from 'vitest';
import { BYTE_LEVEL_ALPHABET, toByteLevel } from './byte-level-alphabet';
import { preTokenize } from './seed-oss-pre-tokenizer';
import { buildTinyTokenizer, TINY_TOKENIZER_SIZE, type TokenizerJson } from './tiny-tokenizer';
import { buildTokenizerConfig, tokenizerSize } from './tokenizer-files';
import { TRAINING_CORPUS } from './training-corpus';

const SPECIALS = [
  '<seed:bos>', '<seed:pad>', '<seed:eos>', '<seed:think>', '</seed:think>',
  '<seed:cot_budget_reflect>', '</seed:cot_budget_reflect>', '<seed:tool_call>', '</seed:tool_call>',
];

// the package is ESM-typed: a dynamic import keeps this CommonJS-compiled file type-correct
type HfTokenizer = InstanceType<typeof import('@huggingface/tokenizers', { with: { 'resolution-mode': 'import' } }).Tokenizer>;

let json: TokenizerJson;
let tokenizer: HfTokenizer;

beforeAll(async () => {
  const { Tokenizer } = await import('@huggingface/tokenizers');
  json = buildTinyTokenizer();
  tokenizer = new Tokenizer(json, buildTokenizerConfig(json, '', 4096));
});

describe('generated tokenizer.json', () => {
  it(`has ${TINY_TOKENIZER_SIZE} tokens with contiguous ids`, () => {
    const ids = Object.values(json.model.vocab).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: TINY_TOKENIZER_SIZE }, (_, i) => i));
    expect(tokenizerSize(json)).toBe(TINY_TOKENIZER_SIZE);
    expect(json.model.merges).toHaveLength(TINY_TOKENIZER_SIZE - 128 - 256);
  });

  it('places the special tokens and placeholders at Seed-OSS ids with its special flags', () => {
    SPECIALS.forEach((content, id) => {
      expect(json.model.vocab[content]).toBe(id);
      expect(json.added_tokens[id]).toMatchObject({ id, content, special: id <= 2, normalized: false });
    });
    expect(json.added_tokens).toHaveLength(128);
    expect(json.added_tokens[9]).toMatchObject({ content: '<[PLHD9_never_used]>', special: true });
    expect(json.added_tokens[127]).toMatchObject({ content: '<[PLHD127_never_used]>', special: true });
  });

  it('puts the 256 byte-level tokens at 128..383 in code point order (first is "!")', () => {
    BYTE_LEVEL_ALPHABET.forEach((ch, i) => expect(json.model.vocab[ch]).toBe(128 + i));
    expect(json.model.vocab['!']).toBe(128);
    expect(json.model.vocab['Ġ']).toBe(128 + BYTE_LEVEL_ALPHABET.indexOf('Ġ'));
  });

  it('has merges whose parts and results are all in the vocabulary, in id order', () => {
    let lastId = 383;
    for (const [left, right] of json.model.merges) {
      expect(json.model.vocab[left]).toBeDefined();
      expect(json.model.vocab[right]).toBeDefined();
      const id = json.model.vocab[left + right];
      expect(id).toBeGreaterThan(383);
      if (id > lastId) lastId = id;
    }
    expect(lastId).toBe(TINY_TOKENIZER_SIZE - 1);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(buildTinyTokenizer())).toBe(JSON.stringify(json));
  });

  it('splits text as @huggingface/tokenizers does with the Oniguruma pattern', () => {
    const pre = tokenizer.pre_tokenizer!;
    for (const line of TRAINING_CORPUS.split('\n').concat(["It's  ok'LL\r\n\n  x", 'a1b22 c'])) {
      expect(preTokenize(line).map(toByteLevel)).toEqual(pre.pre_tokenize(line));
    }
  });
});

describe('loaded with @huggingface/tokenizers', () => {
  it('maps every special token to ids 0..8', () => {
    SPECIALS.forEach((content, id) => {
      expect(tokenizer.token_to_id(content)).toBe(id);
      expect(tokenizer.encode(content, { add_special_tokens: false }).ids).toEqual([id]);
    });
  });

  it('encodes common words to single tokens', () => {
    const { tokens } = tokenizer.encode('The weather today', { add_special_tokens: false });
    expect(tokens).toEqual(['The', 'Ġweather', 'Ġtoday']);
  });

  it.each([
    'Hello world',
    '<seed:bos>system\nYou are a helpful assistant.<seed:eos><seed:bos>user\nHow to make pasta?<seed:eos><seed:bos>assistant\n',
    '<seed:think>\nGot it, let\'s see.</seed:think>The answer is 42.<seed:eos>',
    '<seed:tool_call>\n<function=get_weather>\n<parameter=location>Zürich</parameter>\n</function>\n</seed:tool_call>',
    'Café résumé naïve — 中文文本 和 日本語, emoji 🙂👍🏽🚀 and tabs\tand  double  spaces\r\n',
    '{"a": [1, 2.5e-3, null], "b": "x\\"y"} <[PLHD42_never_used]> </seed:cot_budget_reflect>',
  ])('round-trips %j', (text) => {
    const { ids } = tokenizer.encode(text, { add_special_tokens: false });
    expect(ids.every((id: number) => id >= 0 && id < TINY_TOKENIZER_SIZE)).toBe(true);
    expect(tokenizer.decode(ids, { skip_special_tokens: false })).toBe(text);
  });

  it('does not add <seed:bos> by itself (ByteLevel post-processor)', () => {
    expect(tokenizer.encode('hi').ids[0]).not.toBe(0);
  });

  it('drops bos/pad/eos but keeps think and tool-call markers with skip_special_tokens', () => {
    const ids = tokenizer.encode('<seed:bos><seed:think>x</seed:think><seed:tool_call>y</seed:tool_call><seed:eos>').ids;
    expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe('<seed:think>x</seed:think><seed:tool_call>y</seed:tool_call>');
  });
});
