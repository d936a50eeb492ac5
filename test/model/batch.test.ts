// Mixed batches: one step holding a new sequence's whole prompt, another's middle prefill chunk
// and several decode tokens of different lengths gives each sequence the logits it gets alone.
// Run: npx vitest run test/model/batch.test.ts (needs the built addon)
import { describe, expect, it } from 'vitest';
import { logitRows, type ChunkRequest } from '../helpers/engine-driver';
import { expectLogitsClose } from '../helpers/logits-compare';
import { useModelFixture } from '../helpers/model-fixture';
import { randomTokens, seededRandom } from '../helpers/random-checkpoint';

const CASES: Array<[string, number]> = [
  ['seed-gqa-f32', 1e-4],
  ['seed-all-bias-bf16-sharded', 1e-3],
];

describe.each(CASES)('mixed batch == each sequence alone: %s', (specName, tolerance) => {
  const model = useModelFixture(specName, { kvBlockSize: 8 });

  it('prefill chunk + decodes + whole prompt in one step, for three steps', async () => {
    const { spec, driver } = model();
    const random = seededRandom(spec.seed + 700);
    // full token streams; `done` = tokens already in the cache before the mixed steps
    const seqs = [
      { id: driver.newSeqId(), tokens: randomTokens(14, spec.vocabSize, random), done: 11 }, // decoding
      { id: driver.newSeqId(), tokens: randomTokens(8, spec.vocabSize, random), done: 5 }, // decoding
      { id: driver.newSeqId(), tokens: randomTokens(27, spec.vocabSize, random), done: 6 }, // prefilling by 7
      { id: driver.newSeqId(), tokens: randomTokens(13, spec.vocabSize, random), done: 0 }, // whole prompt, then decoding
    ];
    // warm-up: each sequence alone computes its first `done` tokens
    for (const s of seqs.filter((s) => s.done > 0)) {
      await driver.step([{ seqId: s.id, tokens: s.tokens.slice(0, s.done) }]);
    }
    const batched = new Map<number, Float32Array[]>(seqs.map((s) => [s.id, []]));
    const plans = [
      [1, 1, 7, 10],
      [1, 1, 7, 1],
      [1, 1, 7, 1],
    ];
    for (const plan of plans) {
      const chunks: ChunkRequest[] = seqs.map((s, i) => ({
        seqId: s.id,
        tokens: s.tokens.slice(s.done, s.done + plan[i]),
        logits: plan[i] === 1 ? 'last' : 'all',
        sample: i !== 2, // sequence 2 is still mid-prompt
      }));
      // shuffled order inside the step: decodes around the prefill chunks
      const output = await driver.step([chunks[0], chunks[2], chunks[1], chunks[3]]);
      seqs.forEach((s, i) => {
        batched.get(s.id)!.push(...logitRows(output, s.id));
        s.done += plan[i];
      });
    }
    await driver.finish(seqs.map((s) => s.id));

    // each sequence alone: one-shot prefill of what it computed, rows of the batched positions
    for (const s of seqs) {
      const alone = await driver.runPrefill(s.tokens.slice(0, s.done));
      const rows = batched.get(s.id)!;
      expect(rows.length).toBeLessThanOrEqual(s.done);
      expectLogitsClose(rows, alone.slice(s.done - rows.length), tolerance, `${specName} seq ${s.id}`);
    }
  });

  it('returns one sample per sampling sequence and none for a non-final chunk', async () => {
    const { spec, driver } = model();
    const random = seededRandom(spec.seed + 800);
    const [a, b] = [driver.newSeqId(), driver.newSeqId()];
    const output = await driver.step([
      { seqId: a, tokens: randomTokens(9, spec.vocabSize, random), sample: true },
      { seqId: b, tokens: randomTokens(5, spec.vocabSize, random), sample: false },
    ]);
    expect(output.samples.map((s) => s.seqId)).toEqual([a]);
    expect(output.samples[0].token).toBeGreaterThanOrEqual(0);
    expect(output.samples[0].token).toBeLessThan(spec.vocabSize);
    await driver.finish([a, b]);
  });
});
