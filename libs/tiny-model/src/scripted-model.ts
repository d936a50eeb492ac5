// makeScriptedModel: a tiny Seed-OSS checkpoint constructed so that greedy decoding says given
// replies (docs/tiny-model.md, "Scripted checkpoints"). Each script is keyed by its trigger, the
// last prompt token; the reply's text becomes added tokens (scripted-tokenizer.ts) and the
// weights make the next token depend on the current one alone (scripted-weights.ts). Before
// anything is written it checks that every chain has distinct ids, that chains agree where they
// share a token, that decoding the ids gives the reply, and, in float64 on the bf16-rounded
// weights, that greedy argmax walks every chain with a wide margin.
// Run: tpserve make-tiny-model --out DIR --script FILE; tests: npx vitest run libs/tiny-model

import { Tokenizer } from '../../tokenizer/src/tokenizer';
import { makeTinyModel, type TinyModelResult } from './make-tiny-model';
import { splitReply, validateScripts, withEos, type Script, type ScriptTrigger } from './scripted-script';
import { assignPieceIds, buildScriptedTokenizerJson, planChains } from './scripted-tokenizer';
import { applyScriptedWeights, assertGreedyWalk, DEFAULT_LOGIT_SCALE, roundedCopy } from './scripted-weights';
import { resolveTinyModelOptions, type TinyModelOptions } from './tiny-model-options';
import { buildTinyTokenizer } from './tiny-tokenizer';
import { loadTokenizerFile, seedOssSpecialTokenIds, tokenizerSize, type TokenizerJsonLike } from './tokenizer-files';

export const DEFAULT_SCRIPTED_HIDDEN = 256;
/** Words per added token: short pieces make several streaming chunks. */
export const DEFAULT_WORDS_PER_PIECE = 2;

export interface ScriptedModelOptions {
  outDir: string;
  scripts: Script[];
  /** Hidden size (default 256; >= 128 recommended, and >= the number of chain tokens). */
  hidden?: number;
  layers?: number;
  seed?: number;
  wordsPerPiece?: number;
  /** Logit of the scripted successor (others ~0); default 40. */
  logitScale?: number;
  /** Any other make-tiny-model option: shards, dtype, heads, a base tokenizer file... */
  model?: Partial<TinyModelOptions>;
}

export interface ScriptedChain {
  name: string;
  /** The last prompt token that starts this script. */
  triggerId: number;
  /** The generated ids, ending with eos. */
  tokenIds: number[];
  /** The decoded text of each generated id (its streaming chunk). */
  pieces: string[];
  /** decode(tokenIds): the reply followed by `<seed:eos>`. */
  text: string;
  /** The reply without `<seed:eos>`, as the server returns it (skip_special_tokens). */
  reply: string;
}

export interface ScriptedModelResult extends TinyModelResult {
  scripts: ScriptedChain[];
  /** Smallest (successor - runner-up) / successor logit over all chain tokens. */
  minMargin: number;
}

function resolveTrigger(trigger: ScriptTrigger, tokenizer: Tokenizer, name: string): number {
  if (trigger.tokenId !== undefined) {
    if (trigger.tokenId >= tokenizer.vocabSize) throw new Error(`make-tiny-model --script: script '${name}': trigger.tokenId ${trigger.tokenId} is not below the tokenizer size ${tokenizer.vocabSize}`);
    return trigger.tokenId;
  }
  const ids = tokenizer.encode(trigger.afterText ?? '');
  if (ids.length === 0) throw new Error(`make-tiny-model --script: script '${name}': trigger.afterText encodes to no token`);
  return ids[ids.length - 1];
}

/** Token -> next token over all chains; throws where a chain repeats a token or two chains disagree. */
function successorMap(chains: ReadonlyArray<{ name: string; ids: number[] }>, eosId: number): Map<number, number> {
  const successors = new Map<number, number>();
  const owners = new Map<number, string>();
  for (const { name, ids } of chains) {
    const seen = new Set<number>();
    ids.forEach((id, i) => {
      if (seen.has(id)) throw new Error(`make-tiny-model --script: script '${name}': token ${id} occurs twice in trigger + reply`);
      seen.add(id);
      if (id === eosId) {
        if (i !== ids.length - 1) throw new Error(`make-tiny-model --script: script '${name}': eos (${eosId}) before the end`);
        return;
      }
      const next = ids[i + 1];
      const before = successors.get(id);
      if (before !== undefined && before !== next) {
        throw new Error(`make-tiny-model --script: token ${id} is followed by ${before} in script '${owners.get(id)}' but by ${next} in '${name}' (a trigger used twice, or a trigger inside another reply?)`);
      }
      successors.set(id, next);
      owners.set(id, name);
    });
  }
  return successors;
}

export function makeScriptedModel(o: ScriptedModelOptions, log: (line: string) => void = () => undefined): ScriptedModelResult {
  const partial: Partial<TinyModelOptions> = {
    ...o.model,
    outDir: o.outDir,
    hiddenSize: o.hidden ?? o.model?.hiddenSize ?? DEFAULT_SCRIPTED_HIDDEN,
    numLayers: o.layers ?? o.model?.numLayers,
    seed: o.seed ?? o.model?.seed,
  };
  const options = resolveTinyModelOptions(partial);
  validateScripts({ scripts: o.scripts });
  const base: TokenizerJsonLike = options.tokenizerFile !== undefined ? loadTokenizerFile(options.tokenizerFile).json : buildTinyTokenizer();
  const eosId = seedOssSpecialTokenIds(base).eosTokenId;

  const plans = planChains(
    o.scripts.map((s) => ({ name: s.name, parts: splitReply(withEos(s.reply), base.added_tokens ?? []) })),
    o.wordsPerPiece ?? DEFAULT_WORDS_PER_PIECE,
  );
  const pieceIds = assignPieceIds(plans, tokenizerSize(base));
  const json = buildScriptedTokenizerJson(base, pieceIds);
  const tokenizer = new Tokenizer(json as Record<string, unknown>);
  log(`${o.scripts.length} script(s): ${pieceIds.size} added tokens from ${tokenizerSize(base)} up`);

  const chains = o.scripts.map((script, i) => {
    const ids = plans[i].map((e) => (e.kind === 'token' ? e.id : pieceIds.get(e.text)!));
    const text = tokenizer.decode(ids);
    if (text !== withEos(script.reply)) {
      throw new Error(`make-tiny-model --script: script '${script.name}' decodes to ${JSON.stringify(text)}, not its reply (characters the byte-level decoder changes?)`);
    }
    const triggerId = resolveTrigger(script.trigger, tokenizer, script.name);
    const reply = text.slice(0, -tokenizer.decode([eosId]).length);
    return { name: script.name, triggerId, tokenIds: ids, pieces: ids.map((id) => tokenizer.decode([id])), text, reply };
  });
  const successors = successorMap(chains.map((c) => ({ name: c.name, ids: [c.triggerId, ...c.tokenIds] })), eosId);

  let minMargin = NaN;
  const result = makeTinyModel(partial, log, {
    tokenizer: { text: JSON.stringify(json, null, 2) + '\n', json },
    editWeights: (tensors, vocabSize) => {
      applyScriptedWeights(tensors, options.hiddenSize, vocabSize, successors, o.logitScale ?? DEFAULT_LOGIT_SCALE);
      const stored = (name: string): Float64Array => roundedCopy(tensors.find((t) => t.name === name)!.data, options.dtype);
      minMargin = assertGreedyWalk({
        embed: stored('model.embed_tokens.weight'), normWeight: stored('model.norm.weight'), lmHead: stored('lm_head.weight'),
        hiddenSize: options.hiddenSize, vocabSize,
      }, successors);
      log(`greedy walk checked for ${successors.size} tokens: smallest margin ${(100 * minMargin).toFixed(1)}% of the top logit`);
    },
  });
  return { ...result, scripts: chains, minMargin };
}
