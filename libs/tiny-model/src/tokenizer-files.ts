// The tokenizer side of a checkpoint: loading a given tokenizer.json (or a brotli-compressed
// .br, like fixtures/seed-oss's Seed-OSS one), its size, the ids of bos/pad/eos, and the
// tokenizer_config.json / special_tokens_map.json that transformers writes beside it.
// Tests: npx vitest run libs/tiny-model

import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import type { SpecialTokenIds } from './seed-oss-config';
import { SEED_BOS, SEED_EOS, SEED_PAD, type AddedToken } from './seed-oss-special-tokens';

/** The parts of a tokenizer.json this module reads. */
export interface TokenizerJsonLike {
  added_tokens?: AddedToken[];
  model?: { vocab?: Record<string, number> | Array<[string, number]> };
}

export interface LoadedTokenizer {
  /** The file's JSON text, written out unchanged. */
  text: string;
  json: TokenizerJsonLike;
}

export function loadTokenizerFile(file: string): LoadedTokenizer {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (err) {
    throw new Error(`make-tiny-model: cannot read --tokenizer ${file}: ${(err as Error).message}`);
  }
  const text = (file.endsWith('.br') ? zlib.brotliDecompressSync(raw) : raw).toString('utf8');
  let json: TokenizerJsonLike;
  try {
    json = JSON.parse(text) as TokenizerJsonLike;
  } catch (err) {
    throw new Error(`make-tiny-model: --tokenizer ${file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof json.model !== 'object' || json.model === null || json.model.vocab === undefined) {
    throw new Error(`make-tiny-model: --tokenizer ${file} has no model.vocab (not a tokenizer.json?)`);
  }
  return { text, json };
}

/** Number of token ids: one past the largest id in the vocab or the added tokens. */
export function tokenizerSize(json: TokenizerJsonLike): number {
  const vocab = json.model?.vocab ?? {};
  // Unigram models list [piece, score] pairs: their ids are the positions
  const ids = Array.isArray(vocab) ? [vocab.length - 1] : Object.values(vocab);
  for (const token of json.added_tokens ?? []) ids.push(token.id);
  return ids.reduce((max, id) => Math.max(max, id), -1) + 1;
}

function addedTokenId(json: TokenizerJsonLike, content: string): number {
  const token = (json.added_tokens ?? []).find((t) => t.content === content);
  if (token === undefined) throw new Error(`make-tiny-model: the tokenizer has no ${content} added token (Seed-OSS tokenizers have it)`);
  return token.id;
}

export function seedOssSpecialTokenIds(json: TokenizerJsonLike): SpecialTokenIds {
  return { bosTokenId: addedTokenId(json, SEED_BOS), padTokenId: addedTokenId(json, SEED_PAD), eosTokenId: addedTokenId(json, SEED_EOS) };
}

export function buildTokenizerConfig(json: TokenizerJsonLike, chatTemplate: string, modelMaxLength: number): Record<string, unknown> {
  const addedTokensDecoder: Record<string, Omit<AddedToken, 'id'>> = {};
  for (const { id, content, lstrip, normalized, rstrip, single_word, special } of json.added_tokens ?? []) {
    addedTokensDecoder[String(id)] = { content, lstrip, normalized, rstrip, single_word, special };
  }
  return {
    add_bos_token: false,
    add_eos_token: false,
    added_tokens_decoder: addedTokensDecoder,
    bos_token: SEED_BOS,
    chat_template: chatTemplate,
    clean_up_tokenization_spaces: false,
    eos_token: SEED_EOS,
    extra_special_tokens: {},
    model_max_length: modelMaxLength,
    pad_token: SEED_PAD,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

export function buildSpecialTokensMap(): Record<string, unknown> {
  const entry = (content: string): Record<string, unknown> => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false });
  return { bos_token: entry(SEED_BOS), eos_token: entry(SEED_EOS), pad_token: entry(SEED_PAD) };
}
