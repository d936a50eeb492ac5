// The written checkpoint: Hugging Face file names, shapes of every tensor read back through the
// index, config fields, determinism per seed, f32 output, a given (real Seed-OSS) tokenizer.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsCheckpoint } from '../../safetensors/src/checkpoint-reader';
import { readSeedOssText, seedOssFixturePath } from '../../../test/helpers/seed-oss-fixtures';
import { makeTinyModel, type TinyModelResult } from './make-tiny-model';
import { seedOssTensorSpecs } from './seed-oss-weights';
import { resolveTinyModelOptions } from './tiny-model-options';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tiny-model-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const readJson = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
/** sha256 of each shard, in file name order (deep-equal on raw buffers is slow). */
const shardHashes = (dir: string): string[] =>
  fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort()
    .map((f) => crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex'));

describe('makeTinyModel (defaults)', () => {
  const dir = path.join(tmp, 'default');
  let result: TinyModelResult;
  beforeAll(() => {
    result = makeTinyModel({ outDir: dir });
  });

  it('writes the Hugging Face file set', () => {
    expect(fs.readdirSync(dir).sort()).toEqual([
      'chat_template.jinja', 'config.json', 'generation_config.json', 'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'special_tokens_map.json', 'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect([...result.files].sort()).toEqual(fs.readdirSync(dir).sort());
  });

  it('writes a Seed-OSS config with a padded vocabulary and explicit head_dim', () => {
    const config = readJson(path.join(dir, 'config.json'));
    expect(config).toMatchObject({
      architectures: ['SeedOssForCausalLM'], model_type: 'seed_oss', hidden_size: 64, intermediate_size: 128,
      num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32, vocab_size: 2000,
      rope_theta: 1e7, rms_norm_eps: 1e-6, attention_bias: true, attention_out_bias: false, mlp_bias: false,
      tie_word_embeddings: false, torch_dtype: 'bfloat16', bos_token_id: 0, pad_token_id: 1, eos_token_id: 2,
    });
    expect(result).toMatchObject({ tokenizerSize: 1990, vocabSize: 2000 });
    expect(readJson(path.join(dir, 'generation_config.json'))).toMatchObject({ temperature: 1.1, top_p: 0.95 });
  });

  it('stores every tensor with its HF name, shape and dtype, across both shards', () => {
    const options = resolveTinyModelOptions({ outDir: dir });
    const specs = seedOssTensorSpecs(options, 2000);
    const checkpoint = SafetensorsCheckpoint.open(dir);
    try {
      expect(checkpoint.names().sort()).toEqual(specs.map((s) => s.name).sort());
      for (const spec of specs) expect(checkpoint.info(spec.name)).toMatchObject({ dtype: 'BF16', shape: spec.shape });
      expect(checkpoint.shardFiles().sort()).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
      expect(checkpoint.info('model.layers.1.self_attn.q_proj.weight').shape).toEqual([128, 64]);
      expect(checkpoint.info('model.layers.1.self_attn.k_proj.bias').shape).toEqual([64]);
      expect(checkpoint.info('model.layers.0.self_attn.o_proj.weight').shape).toEqual([64, 128]);
      expect(checkpoint.info('lm_head.weight').shape).toEqual([2000, 64]);
      expect(checkpoint.has('model.layers.0.self_attn.o_proj.bias')).toBe(false);
      expect(checkpoint.has('model.layers.0.mlp.down_proj.bias')).toBe(false);
      expect(checkpoint.fileOf('lm_head.weight').metadata).toEqual({ format: 'pt' });
      const index = checkpoint.index!;
      expect(index.metadata?.total_size).toBe(result.numParameters * 2);
    } finally {
      checkpoint.close();
    }
  });

  it('draws weights at the initializer scale and norms around 1', () => {
    const checkpoint = SafetensorsCheckpoint.open(dir);
    const embed = checkpoint.float64('model.embed_tokens.weight');
    const std = Math.sqrt(embed.reduce((s, v) => s + v * v, 0) / embed.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    const norm = checkpoint.float64('model.norm.weight');
    expect(norm.every((v) => v > 0.7 && v < 1.3)).toBe(true);
    checkpoint.close();
  });

  it('copies the official chat template into tokenizer_config.json and chat_template.jinja', () => {
    const template = fs.readFileSync(path.join(dir, 'chat_template.jinja'), 'utf8');
    expect(template).toContain("{%- set bos_token              = '<seed:bos>'");
    expect(readJson(path.join(dir, 'tokenizer_config.json'))).toMatchObject({
      chat_template: template, bos_token: '<seed:bos>', eos_token: '<seed:eos>', pad_token: '<seed:pad>',
      tokenizer_class: 'PreTrainedTokenizerFast',
    });
    expect(template).toBe(readSeedOssText('chat_template.jinja'));
  });

  it('is deterministic for a seed and different for another seed', () => {
    makeTinyModel({ outDir: path.join(tmp, 'again') });
    makeTinyModel({ outDir: path.join(tmp, 'seed7'), seed: 7 });
    expect(shardHashes(path.join(tmp, 'again'))).toEqual(shardHashes(dir));
    expect(shardHashes(path.join(tmp, 'seed7'))).not.toEqual(shardHashes(dir));
    const tokenizerText = (d: string): string => fs.readFileSync(path.join(d, 'tokenizer.json'), 'utf8');
    expect(tokenizerText(path.join(tmp, 'again')) === tokenizerText(dir)).toBe(true);
  });
});

describe('makeTinyModel (options)', () => {
  it('writes f32 weights, other shapes and 3 shards; removes the stale shards of an earlier run', () => {
    const dir = path.join(tmp, 'f32');
    makeTinyModel({ outDir: dir, numShards: 4 });
    const log: string[] = [];
    makeTinyModel({ outDir: dir, dtype: 'f32', numLayers: 3, hiddenSize: 48, numHeads: 6, numKvHeads: 3, headDim: 16, intermediateSize: 96, numShards: 3 }, (l) => log.push(l));
    expect(log.length).toBeGreaterThan(0);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort()).toEqual(
      ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']);
    const checkpoint = SafetensorsCheckpoint.open(dir);
    expect(checkpoint.info('model.layers.2.self_attn.v_proj.weight')).toMatchObject({ dtype: 'F32', shape: [48, 48] });
    expect(checkpoint.info('model.layers.2.mlp.down_proj.weight').shape).toEqual([48, 96]);
    checkpoint.close();
    expect(readJson(path.join(dir, 'config.json'))).toMatchObject({ torch_dtype: 'float32', head_dim: 16 });
  });

  it('writes a single model.safetensors for --shards 1', () => {
    const dir = path.join(tmp, 'one');
    makeTinyModel({ outDir: dir, numShards: 1 });
    expect(fs.existsSync(path.join(dir, 'model.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'model.safetensors.index.json'))).toBe(false);
  });

  it.each([
    [{ outDir: '' }, /--out DIR is required/],
    [{ numHeads: 3 }, /--heads \(3\) must be a multiple of --kv-heads \(2\)/],
    [{ numShards: 100 }, /--shards 100 exceeds/],
    [{ tokenizerFile: '/nonexistent/tokenizer.json' }, /cannot read --tokenizer/],
  ])('rejects %j', (options, message) => {
    expect(() => makeTinyModel({ outDir: path.join(tmp, 'bad'), ...options })).toThrow(message);
  });

  const realTokenizer = seedOssFixturePath('tokenizer.Seed-OSS-36B-Base.json.br');
  it('takes the real Seed-OSS tokenizer (.br) and pads 155121 to 155136 rows', () => {
    const dir = path.join(tmp, 'real-tokenizer');
    const result = makeTinyModel({ outDir: dir, tokenizerFile: realTokenizer, numLayers: 1, hiddenSize: 16, numHeads: 2, numKvHeads: 1, headDim: 8, intermediateSize: 32 });
    expect(result).toMatchObject({ tokenizerSize: 155121, vocabSize: 155136 });
    expect(readJson(path.join(dir, 'config.json')).vocab_size).toBe(155136);
    const checkpoint = SafetensorsCheckpoint.open(dir);
    expect(checkpoint.info('model.embed_tokens.weight').shape).toEqual([155136, 16]);
    checkpoint.close();
    const config = readJson(path.join(dir, 'tokenizer_config.json'));
    expect((config.added_tokens_decoder as Record<string, { content: string }>)['7'].content).toBe('<seed:tool_call>');
  });
});
