// Option defaults and validation: a table of bad values and the flag each error names.
import { describe, expect, it } from 'vitest';
import { parseIntegerFlag, resolveTinyModelOptions } from './tiny-model-options';

describe('resolveTinyModelOptions', () => {
  it('fills the documented defaults (head_dim 32 != hidden / heads)', () => {
    expect(resolveTinyModelOptions({ outDir: '/tmp/x' })).toMatchObject({
      seed: 0, dtype: 'bf16', numShards: 2, numLayers: 2, hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 32,
      intermediateSize: 128, attentionBias: true, attentionOutBias: false, mlpBias: false,
    });
  });

  it('ignores undefined fields instead of overriding defaults with them', () => {
    expect(resolveTinyModelOptions({ outDir: 'x', numLayers: undefined }).numLayers).toBe(2);
  });

  it.each([
    [{}, /--out DIR is required/],
    [{ outDir: 'x', numHeads: 4, numKvHeads: 3 }, /--heads \(4\) must be a multiple of --kv-heads \(3\)/],
    [{ outDir: 'x', numLayers: 0 }, /--layers must be a positive integer/],
    [{ outDir: 'x', hiddenSize: 1.5 }, /--hidden must be a positive integer/],
    [{ outDir: 'x', numShards: -1 }, /--shards must be a positive integer/],
    [{ outDir: 'x', headDim: 7 }, /--head-dim must be even/],
    [{ outDir: 'x', seed: -3 }, /--seed must be a non-negative integer/],
    [{ outDir: 'x', dtype: 'f16' as 'bf16' }, /--dtype must be bf16 or f32/],
  ])('rejects %j', (options, message) => {
    expect(() => resolveTinyModelOptions(options)).toThrow(message);
  });
});

describe('parseIntegerFlag', () => {
  it('accepts integers and rejects everything else', () => {
    expect(parseIntegerFlag('--layers', '12')).toBe(12);
    expect(() => parseIntegerFlag('--layers', '12abc')).toThrow(/--layers expects an integer/);
    expect(() => parseIntegerFlag('--layers', '1.5')).toThrow(/--layers/);
  });
});
