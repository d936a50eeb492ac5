// Writes a tiny Seed-OSS checkpoint directory laid out as on the Hugging Face Hub: config.json,
// generation_config.json, safetensors shards + model.safetensors.index.json, tokenizer.json,
// tokenizer_config.json, special_tokens_map.json and chat_template.jinja.
// Run: tpserve make-tiny-model --out DIR; tests: npx vitest run libs/tiny-model

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TensorToWrite } from '../../safetensors/src/safetensors-writer';
import { SAFETENSORS_INDEX_FILE, writeShardedSafetensors } from '../../safetensors/src/sharded-writer';
import { buildGenerationConfig, buildSeedOssConfig, paddedVocabSize } from './seed-oss-config';
import { generateSeedOssWeights, seedOssTensorSpecs } from './seed-oss-weights';
import { readSeedOssChatTemplate } from './tiny-model-assets';
import { resolveTinyModelOptions, type TinyModelOptions } from './tiny-model-options';
import {
  buildSpecialTokensMap, buildTokenizerConfig, loadTokenizerFile, seedOssSpecialTokenIds, tokenizerSize, type LoadedTokenizer,
} from './tokenizer-files';
import { buildTinyTokenizer } from './tiny-tokenizer';

export interface TinyModelResult {
  outDir: string;
  /** Token ids the tokenizer defines. */
  tokenizerSize: number;
  /** Embedding / lm_head rows: tokenizerSize rounded up to a multiple of 16. */
  vocabSize: number;
  numParameters: number;
  /** Every file written, relative to outDir. */
  files: string[];
}

/** Hooks for checkpoints built on this one (scripted-model.ts). */
export interface TinyModelOverrides {
  /** Written instead of the generated or --tokenizer tokenizer. */
  tokenizer?: LoadedTokenizer;
  /** Edits the generated tensors in place before they are written. */
  editWeights?: (tensors: TensorToWrite[], vocabSize: number) => void;
}

const STALE_WEIGHTS = /^model(-\d{5}-of-\d{5})?\.safetensors$/;

function writeJson(dir: string, file: string, value: unknown): string {
  fs.writeFileSync(path.join(dir, file), JSON.stringify(value, null, 2) + '\n');
  return file;
}

function resolveTokenizer(options: TinyModelOptions, log: (line: string) => void): LoadedTokenizer {
  if (options.tokenizerFile !== undefined) {
    log(`reading tokenizer ${options.tokenizerFile}`);
    return loadTokenizerFile(options.tokenizerFile);
  }
  log('training the byte-level BPE tokenizer');
  const json = buildTinyTokenizer();
  return { text: JSON.stringify(json, null, 2) + '\n', json };
}

/** Removes weights left by an earlier run (say with another --shards) so the index stays the truth. */
function removeStaleWeights(dir: string): void {
  for (const entry of fs.readdirSync(dir)) {
    if (STALE_WEIGHTS.test(entry) || entry === SAFETENSORS_INDEX_FILE) fs.rmSync(path.join(dir, entry));
  }
}

export function makeTinyModel(
  partial: Partial<TinyModelOptions>, log: (line: string) => void = () => undefined, overrides: TinyModelOverrides = {},
): TinyModelResult {
  const options = resolveTinyModelOptions(partial);
  const tokenizer = overrides.tokenizer ?? resolveTokenizer(options, log);
  const numTokens = tokenizerSize(tokenizer.json);
  const vocabSize = options.vocabSize ?? paddedVocabSize(numTokens);
  if (vocabSize < numTokens) throw new Error(`make-tiny-model: --vocab ${vocabSize} is below the tokenizer's ${numTokens} tokens`);
  const ids = seedOssSpecialTokenIds(tokenizer.json);
  const numTensors = seedOssTensorSpecs(options, vocabSize).length;
  if (options.numShards > numTensors) {
    throw new Error(`make-tiny-model: --shards ${options.numShards} exceeds the ${numTensors} tensors of this model`);
  }
  const chatTemplate = readSeedOssChatTemplate();

  const dir = path.resolve(options.outDir);
  fs.mkdirSync(dir, { recursive: true });
  removeStaleWeights(dir);
  const files: string[] = [];
  files.push(writeJson(dir, 'config.json', buildSeedOssConfig(options, vocabSize, ids)));
  files.push(writeJson(dir, 'generation_config.json', buildGenerationConfig(ids)));

  log(`generating ${numTensors} ${options.dtype} tensors (seed ${options.seed}, vocab ${numTokens} -> ${vocabSize} rows)`);
  const tensors = generateSeedOssWeights(options, vocabSize);
  overrides.editWeights?.(tensors, vocabSize);
  const numParameters = tensors.reduce((sum, t) => sum + t.data.length, 0);
  log(`writing ${numParameters.toLocaleString('en-US')} parameters in ${options.numShards} shard(s)`);
  const written = writeShardedSafetensors(dir, tensors, options.numShards, { format: 'pt' });
  files.push(...written.files);
  if (options.numShards > 1) files.push(SAFETENSORS_INDEX_FILE);

  fs.writeFileSync(path.join(dir, 'tokenizer.json'), tokenizer.text);
  files.push('tokenizer.json');
  files.push(writeJson(dir, 'tokenizer_config.json', buildTokenizerConfig(tokenizer.json, chatTemplate, options.maxPositionEmbeddings)));
  files.push(writeJson(dir, 'special_tokens_map.json', buildSpecialTokensMap()));
  fs.writeFileSync(path.join(dir, 'chat_template.jinja'), chatTemplate);
  files.push('chat_template.jinja');
  log(`wrote ${dir}`);
  return { outDir: dir, tokenizerSize: numTokens, vocabSize, numParameters, files };
}
