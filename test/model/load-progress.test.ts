// NativeEngine.load's progress callback end to end (engine -> addon thread-safe callback -> JS):
// every stage it reports is one the CLI and the worker can label, each counts up by one to its
// total and ends there, and the KV cache stage reports once per layer after the weights are on
// the device (its pages are committed then on the CPU). Run: npx vitest run test/model/load-progress.test.ts
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LOAD_STAGE_UNITS, NativeEngine } from '../../libs/native/src/native-engine';
import { ODD_SPECS } from '../helpers/checkpoint-specs';
import { testDevice } from '../helpers/engine-driver';
import { makeTempDir, removeDir, writeRandomCheckpoint } from '../helpers/random-checkpoint';

const SPEC = ODD_SPECS['seed-gqa-f32'];
const dir = makeTempDir('load-progress');
afterAll(() => removeDir(dir));

describe('load progress', () => {
  it('reports known stages, each counting 1..total, the KV cache once per layer and last', async () => {
    writeRandomCheckpoint(dir, SPEC);
    const events: Array<{ stage: string; done: number; total: number }> = [];
    const engine = await NativeEngine.load({ modelDir: dir, device: testDevice(), numThreads: 2, numKvBlocks: 64 }, (stage, done, total) =>
      events.push({ stage, done, total }),
    );
    engine.dispose();
    // the callbacks come through the addon's thread-safe function: the last may land after load resolves
    await vi.waitFor(() => expect(events.filter((e) => e.stage === 'kv_cache').length).toBe(SPEC.numLayers), { timeout: 5000 });
    const stages = [...new Set(events.map((e) => e.stage))];
    for (const stage of stages) {
      expect(Object.keys(LOAD_STAGE_UNITS)).toContain(stage);
      const counts = events.filter((e) => e.stage === stage);
      expect(counts.map((e) => e.done)).toEqual(counts.map((_, i) => i + 1));
      expect(new Set(counts.map((e) => e.total))).toEqual(new Set([counts.length]));
    }
    expect(stages).toEqual(expect.arrayContaining(['upload', 'kv_cache']));
    const kv = events.filter((e) => e.stage === 'kv_cache');
    expect(kv.length).toBe(SPEC.numLayers);
    expect(events.slice(-kv.length)).toEqual(kv);  // after every other stage's reports
  });
});
