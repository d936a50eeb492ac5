// Scripted checkpoints as written: the weights read back from the safetensors make greedy decoding
// walk every chain (float64: embed -> final rmsnorm -> lm_head, valid because every o_proj and
// down_proj is exactly 0), the tokenizer decodes the chains to the replies, and prompts rendered
// by the real chat template end in the triggers.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMakeTinyModel } from '../../../apps/cli/src/commands/make-tiny-model.command';
import { ChatTemplateRenderer } from '../../chat-template/src/chat-template-renderer';
import { SafetensorsCheckpoint } from '../../safetensors/src/checkpoint-reader';
import { Tokenizer } from '../../tokenizer/src/tokenizer';
import { DEFAULT_SCRIPTS, TOOL_CALL_SCRIPTS, CHAT_ANSWER, WEATHER_TOOL_CALL } from './scripted-default-scripts';
import { makeScriptedModel, type ScriptedModelResult } from './scripted-model';
import { scriptedLogits, type ScriptedLogitWeights } from './scripted-weights';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scripted-model-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const EXHAUSTED = 'I have exhausted my token budget, and now I will start answering the question.</seed:cot_budget_reflect></seed:think>';

/** The stored weights in float64, after checking that the layers add nothing to the residual stream. */
function readLogitWeights(dir: string): ScriptedLogitWeights {
  const checkpoint = SafetensorsCheckpoint.open(dir);
  try {
    const zeroed = checkpoint.names().filter((n) => /\.(o_proj|down_proj)\.weight$/.test(n));
    expect(zeroed).toHaveLength(2 * 2);
    for (const name of zeroed) expect(checkpoint.float64(name).every((v) => v === 0)).toBe(true);
    const [vocabSize, hiddenSize] = checkpoint.info('lm_head.weight').shape;
    return {
      embed: checkpoint.float64('model.embed_tokens.weight'), normWeight: checkpoint.float64('model.norm.weight'),
      lmHead: checkpoint.float64('lm_head.weight'), hiddenSize, vocabSize,
    };
  } finally {
    checkpoint.close();
  }
}

/** Greedy decoding from `trigger` until eos, over the whole vocabulary. */
function greedyWalk(w: ScriptedLogitWeights, trigger: number, eosId = 2, maxTokens = 200): number[] {
  const out: number[] = [];
  for (let token = trigger; token !== eosId && out.length < maxTokens;) {
    const logits = scriptedLogits(w, token);
    token = logits.indexOf(Math.max(...logits));
    out.push(token);
  }
  return out;
}

describe.each([['default', DEFAULT_SCRIPTS], ['tool-call', TOOL_CALL_SCRIPTS]] as const)('makeScriptedModel (%s scripts)', (label, scripts) => {
  const dir = path.join(tmp, label);
  let result: ScriptedModelResult;
  let tokenizer: Tokenizer;
  let renderer: ChatTemplateRenderer;
  beforeAll(() => {
    result = makeScriptedModel({ outDir: dir, scripts });
    tokenizer = Tokenizer.fromModelDir(dir);
    renderer = ChatTemplateRenderer.fromModelDir(dir);
  });
  const chain = (name: string) => result.scripts.find((s) => s.name === name)!;

  it('writes the Hugging Face file set with hidden 256', () => {
    expect(fs.readdirSync(dir).sort()).toEqual([...result.files].sort());
    expect(result.files).toContain('model.safetensors.index.json');
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ hidden_size: 256, num_hidden_layers: 2, vocab_size: result.vocabSize, eos_token_id: 2 });
    expect(result.vocabSize % 16).toBe(0);
  });

  it('greedy decoding of the stored weights walks every chain exactly, by a wide margin', () => {
    const w = readLogitWeights(dir);
    expect(Array.from(w.normWeight).every((v) => v === 1)).toBe(true);
    for (const s of result.scripts) expect(greedyWalk(w, s.triggerId)).toEqual(s.tokenIds);
    expect(result.minMargin).toBeGreaterThan(0.9);
  });

  it('decodes each chain to its reply, special tokens included; skipping special tokens drops only eos', () => {
    for (const [i, s] of result.scripts.entries()) {
      expect(tokenizer.decode(s.tokenIds)).toBe(`${scripts[i].reply}<seed:eos>`);
      expect(s.text).toBe(`${scripts[i].reply}<seed:eos>`);
      expect(tokenizer.decode(s.tokenIds, { skipSpecialTokens: true })).toBe(scripts[i].reply);
      expect(s.pieces.join('')).toBe(s.text);
      expect(s.tokenIds.at(-1)).toBe(2);
    }
  });

  it('uses distinct ids in every chain, trigger included, and keeps the Seed-OSS tag ids', () => {
    for (const s of result.scripts) {
      const ids = [s.triggerId, ...s.tokenIds];
      expect(new Set(ids).size).toBe(ids.length);
      s.tokenIds.forEach((id, i) => {
        if (/^<\/?seed:/.test(s.pieces[i])) expect(id).toBeLessThan(9);
        else expect(id).toBeGreaterThanOrEqual(1990);
      });
    }
    const added = tokenizer.addedTokens;
    expect(added.get('<seed:think>')?.id).toBe(3);
    expect([...added.values()].filter((t) => t.id >= 1990).every((t) => !t.special)).toBe(true);
    expect(tokenizer.vocabSize).toBe(result.tokenizerSize);
  });

  it('chat prompts rendered by the template end in the chat trigger; thinking_budget 0 in token 5', () => {
    const chat = result.scripts[0];
    for (const messages of [[{ role: 'user', content: 'Hi' }], [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is the capital of France?' }]]) {
      expect(tokenizer.encode(renderer.render({ messages })).at(-1)).toBe(chat.triggerId);
      expect(tokenizer.encode(renderer.render({ messages, thinkingBudget: 512 })).at(-1)).toBe(chat.triggerId);
      expect(tokenizer.encode(renderer.render({ messages, thinkingBudget: 0 })).at(-1)).toBe(5);
    }
    expect(chain('budget-0').triggerId).toBe(5);
  });

  it('continues with the answer after the words the server appends when a thinking budget runs out', () => {
    const injected = tokenizer.encode(EXHAUSTED);
    expect(injected.at(-1)).toBe(4);
    const chatIds = result.scripts[0].tokenIds;
    const answer = chatIds.slice(chatIds.indexOf(4) + 1);
    expect(greedyWalk(readLogitWeights(dir), 4)).toEqual(answer);
    expect(tokenizer.decode(answer, { skipSpecialTokens: true })).toBe(label === 'default' ? CHAT_ANSWER : WEATHER_TOOL_CALL);
    expect(chain('budget-0').tokenIds.slice(chain('budget-0').tokenIds.indexOf(4) + 1)).toEqual(answer);
  });

  it.runIf(label === 'default')('a /v1/completions prompt ending in "?" triggers the tool call', () => {
    const tool = chain('tool-call');
    expect(tokenizer.encode('Where is it sunny?').at(-1)).toBe(tool.triggerId);
    expect(tokenizer.encode('What is the weather in Barcelona?').at(-1)).toBe(tool.triggerId);
    expect(tool.pieces.length).toBeGreaterThan(4); // streamed in several chunks
  });
});

describe('makeScriptedModel errors', () => {
  const out = path.join(tmp, 'bad');
  it.each([
    [[{ name: 'a', trigger: { tokenId: 5 }, reply: 'x' }, { name: 'b', trigger: { tokenId: 5 }, reply: 'y' }], /token 5 is followed by/],
    [[{ name: 'a', trigger: { tokenId: 3 }, reply: 'x' }, { name: 'b', trigger: { tokenId: 5 }, reply: '<seed:think>y' }], /token 3 is followed by/],
    [[{ name: 'a', trigger: { tokenId: 4 }, reply: 'x</seed:think>' }], /occurs twice in trigger \+ reply/],
    [[{ name: 'a', trigger: { tokenId: 99999 }, reply: 'x' }], /not below the tokenizer size/],
    [[{ name: 'a', trigger: { tokenId: 5 }, reply: '</seed:cot_budget_reflect>\n</seed:think>x' }], /whitespace-only/],
  ])('rejects %j', (scripts, message) => {
    expect(() => makeScriptedModel({ outDir: out, scripts })).toThrow(message);
  });

  it('fails loudly when the hidden size cannot hold the chains', () => {
    expect(() => makeScriptedModel({ outDir: out, scripts: DEFAULT_SCRIPTS, hidden: 16, model: { numHeads: 2, numKvHeads: 1, headDim: 8 } }))
      .toThrow(/need --hidden >= /);
  });
});

describe('tpserve make-tiny-model --script', () => {
  it('writes the scripted checkpoint and prints the chains as JSON', async () => {
    const file = path.join(tmp, 'scripts.json');
    fs.writeFileSync(file, JSON.stringify({ scripts: [{ name: 'hello', trigger: { afterText: 'Say hi:' }, reply: 'Hi there, friend!' }] }));
    const out = path.join(tmp, 'cli');
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => chunks.push(chunk) > 0) as typeof process.stdout.write;
    try {
      const program = new Command().exitOverride();
      registerMakeTinyModel(program);
      await program.parseAsync(['node', 'tpserve', 'make-tiny-model', '--out', out, '--script', file, '--shards', '1', '--dtype', 'f32']);
    } finally {
      process.stdout.write = write;
    }
    const printed = JSON.parse(chunks.join('')) as { scripts: Array<{ name: string; text: string; tokenIds: number[] }> };
    expect(printed.scripts[0]).toMatchObject({ name: 'hello', text: 'Hi there, friend!<seed:eos>' });
    expect(fs.existsSync(path.join(out, 'model.safetensors'))).toBe(true);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ hidden_size: 256, torch_dtype: 'float32' });
  });
});
