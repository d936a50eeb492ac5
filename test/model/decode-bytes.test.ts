// The engine's weight bytes and the bytes one decode token streams (ModelInfo.weightBytes,
// decodeBytesPerToken: the bandwidth floor's numerator in bench:engine and `generate
// --bandwidth-floor`), against the parameter count of the checkpoint's shapes counted here by
// hand. Untied: all but the embedding table, of which one row; tied: the lm_head is the table, all of it.
// Run: npx vitest run test/model/decode-bytes.test.ts (needs the built addon)
import { describe, expect, it } from 'vitest';
import type { CheckpointSpec } from '../helpers/random-checkpoint';
import { useModelFixture } from '../helpers/model-fixture';

/** Parameters of the checkpoint: embeddings, each layer's norms, attention (with q/k/v biases when set), MLP, final norm, lm_head. */
function parameters(s: CheckpointSpec): { total: number; embedding: number } {
  const H = s.hiddenSize, I = s.intermediateSize, D = s.headDim ?? H / s.numHeads;
  const q = s.numHeads * D, kv = s.numKvHeads * D;
  const attention = H * q + 2 * H * kv + q * H + (s.attentionBias ? q + 2 * kv : 0);
  const layer = 2 * H + attention + 3 * H * I;
  const embedding = s.vocabSize * H;
  return { total: embedding + s.numLayers * layer + H + (s.tieWordEmbeddings ? 0 : embedding), embedding };
}

describe.each(['seed-gqa-f32', 'llama-tied-llama3-f32'])('decode bytes: %s', (specName) => {
  const model = useModelFixture(specName);

  it('counts every f32 weight once, and what a decode token reads of them', () => {
    const { spec, engine } = model();
    const info = engine.info();
    const p = parameters(spec);
    expect(info.weightBytes).toBe(4 * p.total);
    const expected = spec.tieWordEmbeddings ? 4 * p.total : 4 * (p.total - p.embedding + spec.hiddenSize);
    expect(info.decodeBytesPerToken).toBe(expected);
  });
});
