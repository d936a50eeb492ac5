// Builds tokenizer.json for the tiny model in Seed-OSS's exact format (BPE model, NFC normalizer,
// Split regex + ByteLevel(use_regex=false) pre-tokenizer, ByteLevel post-processor and decoder,
// added tokens 0..127), with a byte-level vocabulary and merges learned from TRAINING_CORPUS.
// Tests: npx vitest run libs/tiny-model

import { BYTE_LEVEL_ALPHABET, toByteLevel } from './byte-level-alphabet';
import { trainBpe } from './bpe-trainer';
import { seedOssAddedTokens, type AddedToken } from './seed-oss-special-tokens';
import { preTokenize, SEED_OSS_SPLIT_PATTERN } from './seed-oss-pre-tokenizer';
import { TRAINING_CORPUS } from './training-corpus';

/** Tokens in the generated tokenizer: 128 reserved + 256 bytes + 1606 merges; padded to 2000 rows. */
export const TINY_TOKENIZER_SIZE = 1990;

export interface TokenizerJson {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: AddedToken[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  model: {
    type: 'BPE';
    vocab: Record<string, number>;
    merges: Array<[string, string]>;
  } & Record<string, unknown>;
}

export function buildTinyTokenizer(size = TINY_TOKENIZER_SIZE): TokenizerJson {
  const addedTokens = seedOssAddedTokens();
  const pieces = preTokenize(TRAINING_CORPUS).map(toByteLevel);
  const initial = [...addedTokens.map((t) => t.content), ...BYTE_LEVEL_ALPHABET];
  const { vocab, merges } = trainBpe(pieces, initial, size);
  if (vocab.size !== size) throw new Error(`tiny tokenizer: corpus gave only ${vocab.size} of ${size} tokens`);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: SEED_OSS_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
}
