// `tpserve make-tiny-model`: writes a small random Seed-OSS checkpoint (HF layout) for tests and
// `npm start`. The logic lives in libs/tiny-model; this file only maps flags to options.

import type { Command } from 'commander';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { makeScriptedModel } from '../../../../libs/tiny-model/src/scripted-model';
import { readScriptFile } from '../../../../libs/tiny-model/src/scripted-script';
import { DEFAULT_TINY_MODEL_OPTIONS as D, parseIntegerFlag, type TinyModelDType, type TinyModelOptions } from '../../../../libs/tiny-model/src/tiny-model-options';

interface MakeTinyModelFlags {
  out?: string;
  seed?: string;
  tokenizer?: string;
  dtype?: string;
  layers?: string;
  hidden?: string;
  heads?: string;
  kvHeads?: string;
  headDim?: string;
  intermediate?: string;
  shards?: string;
  vocab?: string;
  attentionBias?: boolean;
  script?: string;
}

const int = (flag: string, text: string | undefined): number | undefined =>
  text === undefined ? undefined : parseIntegerFlag(flag, text);

export function flagsToOptions(flags: MakeTinyModelFlags): Partial<TinyModelOptions> {
  return {
    outDir: flags.out,
    seed: int('--seed', flags.seed),
    tokenizerFile: flags.tokenizer,
    dtype: flags.dtype as TinyModelDType | undefined,
    numLayers: int('--layers', flags.layers),
    hiddenSize: int('--hidden', flags.hidden),
    numHeads: int('--heads', flags.heads),
    numKvHeads: int('--kv-heads', flags.kvHeads),
    headDim: int('--head-dim', flags.headDim),
    intermediateSize: int('--intermediate', flags.intermediate),
    numShards: int('--shards', flags.shards),
    vocabSize: int('--vocab', flags.vocab),
    attentionBias: flags.attentionBias === false ? false : undefined,
  };
}

export function registerMakeTinyModel(program: Command): void {
  program
    .command('make-tiny-model')
    .description('write a tiny random Seed-OSS checkpoint (config, safetensors shards, tokenizer, chat template)')
    .option('--out <dir>', 'output directory (required)')
    .option('--seed <n>', `PRNG seed for the weights (default ${D.seed})`)
    .option('--tokenizer <file>', 'use this tokenizer.json (or .json.br) instead of the generated one')
    .option('--dtype <dtype>', `bf16 or f32 (default ${D.dtype})`)
    .option('--layers <n>', `decoder layers (default ${D.numLayers})`)
    .option('--hidden <n>', `hidden size (default ${D.hiddenSize})`)
    .option('--heads <n>', `attention heads (default ${D.numHeads})`)
    .option('--kv-heads <n>', `key/value heads (default ${D.numKvHeads})`)
    .option('--head-dim <n>', `head dimension (default ${D.headDim})`)
    .option('--intermediate <n>', `MLP intermediate size (default ${D.intermediateSize})`)
    .option('--vocab <n>', 'embedding rows (default: the tokenizer size padded up)')
    .option('--no-attention-bias', 'no q/k/v biases (Llama layout)')
    .option('--shards <n>', `safetensors shards (default ${D.numShards})`)
    .option('--script <file>', 'JSON {"scripts": [{name, trigger: {afterText | tokenId}, reply}]}: a checkpoint that greedy-decodes these replies (hidden 256 unless --hidden); prints the token chains as JSON')
    .action((flags: MakeTinyModelFlags) => {
      const log = (line: string): void => void process.stderr.write(`make-tiny-model: ${line}\n`);
      if (flags.script === undefined) {
        makeTinyModel(flagsToOptions(flags), log);
        return;
      }
      const options = flagsToOptions(flags);
      // scripted checkpoint: the chains (trigger, ids, pieces) go to stdout for scripts and tests
      const result = makeScriptedModel({ outDir: options.outDir ?? '', scripts: readScriptFile(flags.script), model: options }, log);
      process.stdout.write(JSON.stringify({ outDir: result.outDir, minMargin: result.minMargin, scripts: result.scripts }, null, 2) + '\n');
    });
}
