// The native engine's logits (mode 'all') against the float64 reference on random checkpoints of
// odd shapes, bf16 and f32: max |diff| within 1e-3 of the largest |logit|. The KV cache is f32 here
// (the reference keeps K and V in float64); the bf16 cache that bf16 checkpoints get by default is
// held to the f32 one in kv-cache-dtype.test.ts.
// Run: npx vitest run test/model/logits.test.ts (needs the built addon)
import { describe, expect, it } from 'vitest';
import { ODD_SPECS } from '../helpers/checkpoint-specs';
import { expectLogitsClose } from '../helpers/logits-compare';
import { useModelFixture } from '../helpers/model-fixture';
import { randomTokens, seededRandom } from '../helpers/random-checkpoint';
import { parseReferenceConfig } from '../reference/reference-config';

const TOLERANCE = 1e-3;

describe.each(Object.keys(ODD_SPECS))('engine vs float64 reference: %s', (specName) => {
  const model = useModelFixture(specName, { kvCacheDtype: 'f32' });

  it('reports the shape of config.json in info()', () => {
    const { engine, checkpoint } = model();
    const c = parseReferenceConfig(checkpoint.config);
    const info = engine.info();
    expect(info.architecture).toBe(c.architecture);
    expect([info.vocabSize, info.hiddenSize, info.numLayers]).toEqual([c.vocabSize, c.hiddenSize, c.numLayers]);
    expect([info.numHeads, info.numKvHeads, info.headDim]).toEqual([c.numHeads, c.numKvHeads, c.headDim]);
    expect(info.numKvBlocks).toBeGreaterThan(0);
  });

  it('matches on a 19-token prompt (crossing a KV block)', async () => {
    const { spec, driver, reference } = model();
    const tokens = randomTokens(19, spec.vocabSize, seededRandom(spec.seed + 100));
    const rows = await driver.runPrefill(tokens);
    expect(rows.length).toBe(tokens.length);
    expectLogitsClose(rows, reference(tokens), TOLERANCE, specName);
  });

  it('matches on a 1-token prompt and on the last and first vocab ids', async () => {
    const { spec, driver, reference } = model();
    expectLogitsClose(await driver.runPrefill([5]), reference([5]), TOLERANCE, `${specName} [5]`);
    const edges = [spec.vocabSize - 1, 0, spec.vocabSize - 2, 1];
    expectLogitsClose(await driver.runPrefill(edges), reference(edges), TOLERANCE, `${specName} edges`);
  });

  it('matches at a later position (40 tokens, several blocks)', async () => {
    const { spec, driver, reference } = model();
    const tokens = randomTokens(40, spec.vocabSize, seededRandom(spec.seed + 200));
    const rows = await driver.runPrefill(tokens);
    expectLogitsClose(rows, reference(tokens), TOLERANCE, specName);
  });
});
