// UsageRecorder while the store is down: records are held (merged per key, model and hour) and
// written once the store answers again; none is lost or counted twice. The store is a
// MemoryStore behind a switch (the real-Redis outage is test/e2e/control-plane.test.ts).
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../../libs/store/src/memory-store';
import { StoreUnavailableError } from '../../../../libs/store/src/store';
import type { UsageDelta } from '../../../../libs/store/src/usage-record';
import { UsageRecorder } from './usage-recorder.service';

class SwitchedStore extends MemoryStore {
  isDown = false;
  override async addUsage(delta: UsageDelta): Promise<void> {
    if (this.isDown) throw new StoreUnavailableError('down');
    return super.addUsage(delta);
  }
}

const delta = (keyId: string, completionTokens: number): UsageDelta => ({
  keyId, model: 'm', atMs: Date.UTC(2026, 0, 1, 10, 5), numRequests: 1, promptTokens: 10, completionTokens, reasoningTokens: 0, cachedPromptTokens: 0,
});

describe('UsageRecorder', () => {
  it('holds records while the store is down and writes each once when it is back', async () => {
    const store = new SwitchedStore();
    const recorder = new UsageRecorder(store);
    recorder.record(delta('a', 1));
    store.isDown = true;
    recorder.record(delta('a', 2));
    recorder.record(delta('a', 3));
    recorder.record(delta('b', 4));
    await new Promise((r) => setTimeout(r, 50));
    expect(recorder.numPending).toBe(2); // merged per (key, model, hour)
    await new Promise((r) => setTimeout(r, 400)); // a retry while still down
    store.isDown = false;
    const deadline = Date.now() + 10_000;
    while (recorder.numPending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const rows = await store.listUsage({});
    expect(rows.map((r) => [r.keyId, r.numRequests, r.promptTokens, r.completionTokens])).toEqual([['a', 3, 30, 6], ['b', 1, 10, 4]]);
    await recorder.onModuleDestroy();
  });

  it('makes a last attempt at shutdown', async () => {
    const store = new SwitchedStore();
    const recorder = new UsageRecorder(store);
    store.isDown = true;
    recorder.record(delta('c', 5));
    await new Promise((r) => setTimeout(r, 20));
    store.isDown = false;
    await recorder.onModuleDestroy();
    expect((await store.listUsage({ keyId: 'c' })).map((r) => r.completionTokens)).toEqual([5]);
  });
});
