// Test support only: the invariants the property tests check after every step. Each failed
// check throws with what broke, so a failing seed points at the step and request at once.

import type { Scheduler } from '../scheduler';
import type { SchedulerOutput } from '../scheduler-output';

function check(cond: boolean, msg: () => string): void {
  if (!cond) throw new Error(`invariant: ${msg()}`);
}

/** Seeded PRNG (mulberry32): the same seed gives the same run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Checks block ownership (each block's refCount equals the number of live block tables holding
 * it, no table holds a block twice, free <=> refCount 0, free + used == total), per-request
 * token accounting, and the step's budget and sequence cap.
 */
export function checkInvariants(s: Scheduler<unknown>, liveIds: Iterable<number>, out: SchedulerOutput<unknown> | null): void {
  const { kvCache: kv, config } = s;
  const owners = new Map<number, number>();
  for (const id of liveIds) {
    const req = s.getRequest(id);
    check(req !== undefined, () => `live request ${id} is unknown to the scheduler`);
    if (req === undefined) continue;
    const ids = kv.getBlockIds(id);
    check(ids.join() === req.blockIds.join(), () => `request ${id}: block ids ${req.blockIds} != table ${ids}`);
    check(new Set(ids).size === ids.length, () => `request ${id} holds a block twice: ${ids}`);
    for (const b of ids) owners.set(b, (owners.get(b) ?? 0) + 1);
    check(req.numComputedTokens >= 0 && req.numComputedTokens <= req.numTokens, () => `request ${id}: ${req.numComputedTokens} computed of ${req.numTokens}`);
    check(req.allTokens.join() === [...req.promptTokens, ...req.outputTokens].join(), () => `request ${id}: tokens out of sync`);
    // async: at most the unreported steps' tokens are pending, never scheduled past them
    const maxPending = Math.max(1, s.stepsAhead);
    check(req.numPendingSamples >= 0 && req.numPendingSamples <= maxPending, () => `request ${id}: ${req.numPendingSamples} pending samples`);
    check(req.numStaleSamples >= 0 && req.numStaleSamples <= maxPending && (req.numStaleSamples === 0 || req.status !== 'RUNNING'), () => `request ${id} (${req.status}): ${req.numStaleSamples} stale samples`);
    check(req.numInFlightTokens >= 0 && req.numScheduledTokens <= req.numTokens + req.numPendingSamples, () => `request ${id}: ${req.numScheduledTokens} scheduled of ${req.numTokens} + ${req.numPendingSamples}`);
    if (req.status === 'RUNNING') {
      check(ids.length >= kv.blocksFor(req.numComputedTokens), () => `request ${id}: ${ids.length} blocks for ${req.numComputedTokens} tokens`);
    } else {
      check(ids.length === 0 && req.numComputedTokens === 0 && req.numInFlightTokens === 0, () => `request ${id} (${req.status}) holds KV`);
    }
  }
  const pool = kv.pool;
  const free = new Set(pool.freeBlockIds());
  check(free.size === pool.numFreeBlocks, () => `free queue has ${free.size} ids, counter says ${pool.numFreeBlocks}`);
  check(pool.numFreeBlocks + pool.numUsedBlocks === pool.numBlocks, () => 'free + used != total');
  for (let b = 0; b < pool.numBlocks; b++) {
    const refCount = pool.getBlock(b).refCount;
    check(refCount === (owners.get(b) ?? 0), () => `block ${b}: refCount ${refCount}, owned by ${owners.get(b) ?? 0} tables`);
    check((refCount === 0) === free.has(b), () => `block ${b}: refCount ${refCount} but free=${free.has(b)}`);
  }
  const stats = s.getStats();
  check(stats.numRunning <= config.maxNumSeqs, () => `${stats.numRunning} running > maxNumSeqs`);
  if (out === null) return;
  const sum = out.scheduled.reduce((n, e) => n + e.tokens.length, 0);
  check(sum === out.numBatchedTokens, () => `numBatchedTokens ${out.numBatchedTokens} != ${sum}`);
  check(sum <= config.maxNumBatchedTokens, () => `step ${out.stepId} batches ${sum} tokens`);
  check(out.scheduled.length <= config.maxNumSeqs, () => `step ${out.stepId} schedules ${out.scheduled.length} requests`);
  check(new Set(out.scheduled.map((e) => e.requestId)).size === out.scheduled.length, () => 'a request scheduled twice');
}
