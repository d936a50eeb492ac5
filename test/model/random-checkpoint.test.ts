// The random checkpoint writer itself: what it writes (read back with libs/safetensors) is
// exactly what it hands the reference, bf16 values are bf16-rounded, and the tensor set follows
// each architecture's bias and tying rules. Needs no native engine.
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsCheckpoint } from '../../libs/safetensors/src';
import { ODD_SPECS } from '../helpers/checkpoint-specs';
import { buildHfConfig, makeTempDir, randomTensors, removeDir, writeRandomCheckpoint } from '../helpers/random-checkpoint';
import { referenceLogits } from '../reference/reference-model';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

describe('random checkpoints', () => {
  it.each(Object.keys(ODD_SPECS))('%s reads back exactly as the reference sees it', (name) => {
    const dir = makeTempDir(name);
    dirs.push(dir);
    const { tensors, weights } = writeRandomCheckpoint(dir, ODD_SPECS[name]);
    const reader = SafetensorsCheckpoint.open(dir);
    try {
      expect(reader.names().sort()).toEqual(tensors.map((t) => t.name).sort());
      for (const t of tensors) {
        expect(reader.info(t.name).shape).toEqual(t.shape);
        expect(reader.float64(t.name)).toEqual(weights(t.name).data);
      }
      if ((ODD_SPECS[name].numShards ?? 1) > 1) expect(reader.shardFiles().length).toBe(ODD_SPECS[name].numShards);
    } finally {
      reader.close();
    }
  });

  it('stores bf16-representable values for bf16 checkpoints', () => {
    const config = buildHfConfig(ODD_SPECS['seed-gqa-bf16']);
    for (const t of randomTensors(config, 'bf16', 3)) {
      const bits = new Uint32Array(Float32Array.from(t.data).buffer);
      expect(bits.every((b) => (b & 0xffff) === 0), t.name).toBe(true);
    }
  });

  it('follows each architecture’s bias and tying rules', () => {
    const names = (spec: string) => new Set(randomTensors(buildHfConfig(ODD_SPECS[spec]), 'f32', 1).map((t) => t.name));
    const qwen = names('qwen2-tied-f32');
    expect(qwen.has('model.layers.0.self_attn.q_proj.bias')).toBe(true);
    expect(qwen.has('model.layers.0.self_attn.o_proj.bias')).toBe(false);
    expect(qwen.has('lm_head.weight')).toBe(false);
    const llama = names('llama-bias-mqa-bf16');
    expect(llama.has('model.layers.1.self_attn.o_proj.bias')).toBe(true);
    expect(llama.has('model.layers.1.mlp.down_proj.bias')).toBe(true);
    const seed = names('seed-gqa-f32');
    expect(seed.has('model.layers.2.self_attn.v_proj.bias')).toBe(true);
    expect(seed.has('model.layers.2.self_attn.o_proj.bias')).toBe(false);
    expect(seed.has('lm_head.weight')).toBe(true);
  });

  it('gives O(1) logits that are not flat (a useful test signal)', () => {
    const spec = ODD_SPECS['seed-gqa-f32'];
    const tensors = randomTensors(buildHfConfig(spec), 'f32', spec.seed);
    const byName = new Map(tensors.map((t) => [t.name, { shape: t.shape, data: Float64Array.from(t.data) }]));
    const [row] = referenceLogits(buildHfConfig(spec), (n) => byName.get(n)!, [42]);
    const max = Math.max(...Array.from(row, Math.abs));
    expect(max).toBeGreaterThan(0.5);
    expect(max).toBeLessThan(20);
  });
});
