// A scripted checkpoint through the real native engine (CPU): NativeEngine + SingleSequenceDriver
// decode each default script's exact chain from prompts rendered by the chat template, greedily
// and also sampling at Seed-OSS's temperature 1.1 (the successor's logit leads by ~40).
// Needs the addon: $TPSERVE_NATIVE_ADDON, native/build/ or native/build-main/tpserve_native.node;
// skipped when none is built. Run: npx vitest run libs/tiny-model/src/scripted-native.spec.ts
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatTemplateRenderer } from '../../chat-template/src/chat-template-renderer';
import { findRepoRoot } from '../../native/src/addon';
import { NativeEngine } from '../../native/src/native-engine';
import { SingleSequenceDriver } from '../../native/src/single-sequence-driver';
import type { SamplingParams } from '../../native/src/types';
import { Tokenizer } from '../../tokenizer/src/tokenizer';
import { DEFAULT_SCRIPTS, COMPLETIONS_TRIGGER_TEXT } from './scripted-default-scripts';
import { makeScriptedModel, type ScriptedModelResult } from './scripted-model';

function findAddon(): string | undefined {
  if (process.env.TPSERVE_NATIVE_ADDON) return process.env.TPSERVE_NATIVE_ADDON;
  const root = findRepoRoot(__dirname);
  return ['build', 'build-main'].map((d) => path.join(root, 'native', d, 'tpserve_native.node')).find((f) => fs.existsSync(f));
}
const addon = findAddon();
if (addon !== undefined) process.env.TPSERVE_NATIVE_ADDON = addon; // read by loadAddon()

describe.skipIf(addon === undefined)('scripted checkpoint on the native engine', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scripted-native-'));
  let result: ScriptedModelResult;
  let engine: NativeEngine;
  let tokenizer: Tokenizer;
  let renderer: ChatTemplateRenderer;
  beforeAll(async () => {
    result = makeScriptedModel({ outDir: dir, scripts: DEFAULT_SCRIPTS });
    tokenizer = Tokenizer.fromModelDir(dir);
    renderer = ChatTemplateRenderer.fromModelDir(dir);
    engine = await NativeEngine.load({ modelDir: dir, device: 'cpu', numKvBlocks: 64, numThreads: 2 });
  });
  afterAll(() => {
    engine?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Samples after `prompt` until eos (or maxTokens), feeding each token back. */
  async function generate(prompt: number[], params: SamplingParams, maxTokens = 64): Promise<number[]> {
    const driver = new SingleSequenceDriver(engine);
    const fullParams = { ...params, vocabLimit: result.tokenizerSize };
    let token = (await driver.prefill(prompt, fullParams, { sample: true, logits: 'none' })).sample!.token;
    const out = [token];
    while (token !== 2 && out.length < maxTokens) {
      token = (await driver.decode(token)).sample.token;
      out.push(token);
    }
    await driver.release();
    return out;
  }

  const prompts = (): Array<[string, number[]]> => {
    const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];
    return [
      ['chat', tokenizer.encode(renderer.render({ messages }))],
      ['budget-0', tokenizer.encode(renderer.render({ messages, thinkingBudget: 0 }))],
      ['tool-call', tokenizer.encode(COMPLETIONS_TRIGGER_TEXT)],
    ];
  };

  it('decodes every script exactly with greedy sampling', async () => {
    for (const [name, prompt] of prompts()) {
      const ids = await generate(prompt, { temperature: 0 });
      expect(ids, name).toEqual(result.scripts.find((s) => s.name === name)!.tokenIds);
      expect(tokenizer.decode(ids), name).toBe(result.scripts.find((s) => s.name === name)!.text);
    }
  });

  it('follows the chains when sampling at temperature 1.1 / top_p 0.95 too', async () => {
    for (const [name, prompt] of prompts()) {
      const ids = await generate(prompt, { temperature: 1.1, topP: 0.95, seed: 1234 });
      expect(ids, name).toEqual(result.scripts.find((s) => s.name === name)!.tokenIds);
    }
  });

  it('answers after the words the server appends when a thinking budget runs out', async () => {
    const chat = result.scripts.find((s) => s.name === 'chat')!;
    const thinking = chat.tokenIds.slice(0, 3); // <seed:think> and two reasoning pieces
    const appended = tokenizer.encode('I have exhausted my token budget, and now I will start answering the question.</seed:cot_budget_reflect></seed:think>');
    const [, prompt] = prompts()[0];
    const ids = await generate([...prompt, ...thinking, ...appended], { temperature: 0 });
    expect(ids).toEqual(chat.tokenIds.slice(chat.tokenIds.indexOf(4) + 1));
  });
});
