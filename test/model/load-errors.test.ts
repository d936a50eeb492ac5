// Bad inputs give rejected promises with clear messages, never a crash: broken checkpoints
// (truncated safetensors, missing tensor, shapes that disagree with config.json, bad config) and
// bad steps (token outside the vocab, unknown sequence, too few KV blocks) on a live engine.
// Run: npx vitest run test/model/load-errors.test.ts (needs the built addon)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../libs/safetensors/src';
import { ODD_SPECS } from '../helpers/checkpoint-specs';
import { loadEngine } from '../helpers/engine-driver';
import { expectLogitsClose } from '../helpers/logits-compare';
import { useModelFixture } from '../helpers/model-fixture';
import { buildHfConfig, makeTempDir, randomTensors, removeDir, writeConfig, writeRandomCheckpoint } from '../helpers/random-checkpoint';

const SPEC = ODD_SPECS['seed-gqa-f32'];
const dirs: string[] = [];

/** A checkpoint directory whose config.json and tensors can disagree. */
function brokenCheckpoint(label: string, edit: { config?: Record<string, unknown>; tensorsFrom?: Record<string, unknown>; omit?: string }): string {
  const dir = makeTempDir(`broken-${label}`);
  dirs.push(dir);
  const config = { ...buildHfConfig(SPEC), ...edit.config };
  const tensors = randomTensors({ ...buildHfConfig(SPEC), ...edit.tensorsFrom }, 'f32', 1).filter((t) => t.name !== edit.omit);
  writeConfig(dir, config);
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  return dir;
}

afterAll(() => dirs.forEach(removeDir));

describe('loading a broken checkpoint rejects with a clear message', () => {
  it('names the directory when there is no config.json', async () => {
    const dir = makeTempDir('empty');
    dirs.push(dir);
    await expect(loadEngine(dir)).rejects.toThrow(/config\.json/);
  });

  it('names the file of a truncated safetensors', async () => {
    const dir = makeTempDir('truncated');
    dirs.push(dir);
    writeRandomCheckpoint(dir, SPEC);
    const file = path.join(dir, 'model.safetensors');
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    await expect(loadEngine(dir)).rejects.toThrow(/model\.safetensors/);
  });

  it('names the file of a safetensors cut inside its header', async () => {
    const dir = makeTempDir('cut-header');
    dirs.push(dir);
    writeRandomCheckpoint(dir, SPEC);
    fs.truncateSync(path.join(dir, 'model.safetensors'), 20);
    await expect(loadEngine(dir)).rejects.toThrow(/model\.safetensors/);
  });

  it('names a missing tensor', async () => {
    const dir = brokenCheckpoint('missing', { omit: 'model.layers.1.mlp.up_proj.weight' });
    await expect(loadEngine(dir)).rejects.toThrow(/model\.layers\.1\.mlp\.up_proj\.weight/);
  });

  it('names a missing bias that config.json asks for', async () => {
    const dir = brokenCheckpoint('no-bias', { tensorsFrom: { attention_bias: false } });
    await expect(loadEngine(dir)).rejects.toThrow(/self_attn\.[qkv]_proj\.bias/);
  });

  it('names a tensor whose shape disagrees with config.json', async () => {
    const dir = brokenCheckpoint('shape', { tensorsFrom: { intermediate_size: 64 } });
    await expect(loadEngine(dir)).rejects.toThrow(/mlp\.(gate|up|down)_proj\.weight/);
  });

  it('rejects a head_dim that disagrees with the projections', async () => {
    const dir = brokenCheckpoint('head-dim', { config: { head_dim: 8 } });
    await expect(loadEngine(dir)).rejects.toThrow(/self_attn\.[qkvo]_proj/);
  });

  it('names an unsupported architecture', async () => {
    const dir = brokenCheckpoint('arch', { config: { architectures: ['GPT2LMHeadModel'] } });
    await expect(loadEngine(dir)).rejects.toThrow(/GPT2LMHeadModel/);
  });
});

describe('a bad step rejects and leaves the engine usable', () => {
  const model = useModelFixture('seed-gqa-f32');

  it('rejects a token id outside the vocab', async () => {
    const { driver } = model();
    const seqId = driver.newSeqId();
    await expect(driver.step([{ seqId, tokens: [3, SPEC.vocabSize], sample: true }])).rejects.toThrow(/token/i);
    // a per-sequence validation error (native SequenceError) names its sequence on the JS error
    await expect(driver.step([{ seqId: driver.newSeqId(), tokens: [3, SPEC.vocabSize], sample: true }])).rejects.toMatchObject({ seqId: seqId + 1 });
    await expect(driver.step([{ seqId: driver.newSeqId(), tokens: [3, -1], sample: true }])).rejects.toThrow(/token/i);
  });

  it('rejects a sequence it was never told about', async () => {
    const { driver } = model();
    const scheduled = [{ seqId: 4242, tokens: [1], startPos: 0, newBlockIds: [0], sample: true }];
    await expect(driver.rawStep({ newSequences: [], scheduled, finished: [] })).rejects.toThrow(/4242|sequence/i);
    await expect(driver.rawStep({ newSequences: [], scheduled, finished: [] })).rejects.toMatchObject({ seqId: 4242 });
  });

  it('rejects a chunk with too few KV blocks or an out-of-range block id', async () => {
    const { driver, engine } = model();
    const { kvBlockSize, numKvBlocks } = engine.info();
    const tokens = new Array<number>(kvBlockSize + 1).fill(3);
    await expect(driver.rawStep({
      newSequences: [{ seqId: 5000, params: { temperature: 0 }, numPromptTokens: tokens.length }],
      scheduled: [{ seqId: 5000, tokens, startPos: 0, newBlockIds: [0], sample: true }],
      finished: [],
    })).rejects.toThrow(/block/i);
    await expect(driver.rawStep({
      newSequences: [{ seqId: 5001, params: { temperature: 0 }, numPromptTokens: 1 }],
      scheduled: [{ seqId: 5001, tokens: [3], startPos: 0, newBlockIds: [numKvBlocks], sample: true }],
      finished: [],
    })).rejects.toMatchObject({ seqId: 5001, message: expect.stringMatching(/block/i) });
  });

  it('still matches the reference after the rejected steps', async () => {
    const { driver, reference } = model();
    const tokens = [7, 100, 256, 0, 31];
    expectLogitsClose(await driver.runPrefill(tokens), reference(tokens), 1e-3, 'after rejected steps');
  });
});
