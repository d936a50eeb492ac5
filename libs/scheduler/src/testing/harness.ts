// Test support only: builds a Scheduler wired to a FakeWorker and drives it step by step,
// collecting each request's emitted tokens and finish record. With asyncScheduling each step is
// scheduled and sent while the previous one (maxStepsAhead 2: two) is still unreported, as the engine loop does: the
// worker gets a copy of the step as sent (placeholders and all) and runs the steps in order.

import { Scheduler } from '../scheduler';
import type { SchedulerConfig } from '../scheduler-config';
import type { FinishedRequest, RequestUpdate, SchedulerOutput } from '../scheduler-output';
import { FakeWorker, nextToken } from './fake-worker';

export const VOCAB_SIZE = 50;

export const BASE_CONFIG: SchedulerConfig = {
  maxNumBatchedTokens: 16,
  maxNumSeqs: 4,
  maxWaiting: 8,
  enableChunkedPrefill: true,
  blockSize: 4,
  numBlocks: 32,
  maxModelLen: 64,
  eosTokenIds: [],
};

/** The fake model's continuation of `prompt`, stopping only on length. */
export function referenceOutput(prompt: readonly number[], maxTokens: number): number[] {
  const out: number[] = [];
  let last = prompt[prompt.length - 1];
  while (out.length < maxTokens) out.push((last = nextToken(last, VOCAB_SIZE)));
  return out;
}

export const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/** [requestId, startPos, numTokens, sample] of each scheduled entry: the decision in brief. */
export type Decision = [number, number, number, boolean];

export class Harness {
  readonly scheduler: Scheduler<{ temperature: number }>;
  readonly worker: FakeWorker;
  readonly outputs = new Map<number, number[]>();
  readonly finished = new Map<number, FinishedRequest>();
  lastOutput: SchedulerOutput<{ temperature: number }> | null = null;
  /** Async: the steps sent to the worker, oldest first, each with the copy the worker runs. */
  private readonly sent: Array<{ out: SchedulerOutput<{ temperature: number }>; copy: SchedulerOutput<{ temperature: number }> }> = [];

  /** `stepSeconds`: the time each reported step "took", fed to recordStepTime (the prefill budget's cost model). */
  constructor(overrides: Partial<SchedulerConfig> = {}, private readonly stepSeconds?: (out: SchedulerOutput<unknown>) => number) {
    const config = { ...BASE_CONFIG, ...overrides };
    this.scheduler = new Scheduler(config);
    this.worker = new FakeWorker(config.numBlocks, config.blockSize, VOCAB_SIZE, (id) => {
      return this.scheduler.getRequest(id)?.allTokens;
    });
  }

  add(requestId: number, promptTokens: number[], extra: { maxTokens?: number; priority?: number; deadlineMs?: number; isSpeculationAllowed?: boolean } = {}): void {
    this.scheduler.addRequest({ requestId, promptTokens, samplingParams: { temperature: 0 }, maxTokens: 4, ...extra });
  }

  /** Runs one step (async: schedules it, then reports the previous one); returns its decisions. */
  step(now?: number): Decision[] {
    const out = this.scheduler.schedule(now);
    this.lastOutput = out;
    for (const f of out.finishedRequests) this.finished.set(f.requestId, f);
    if (this.scheduler.config.asyncScheduling) {
      this.sent.push({ out, copy: structuredClone(out) });
      // the oldest steps report until `stepsAhead` are left behind the running one
      while (this.sent.length > this.scheduler.stepsAhead) this.runOldest();
      if (out.scheduled.length === 0) {
        this.runOldest(); // nothing was planned: a reply must come first
        if (!this.sent.some((s) => s.out.scheduled.length > 0)) this.report(); // only forget ids are left
      }
    } else {
      this.record(this.scheduler.updateFromOutput(out, this.worker.step(out)));
      this.reportTime(out);
    }
    return out.scheduled.map((s) => [s.requestId, s.startPos, s.tokens.length, s.sample]);
  }

  /** Async: runs every sent step on the worker and reports it. */
  report(): void {
    while (this.sent.length > 0) this.runOldest();
  }

  get hasUnreported(): boolean {
    return this.sent.length > 0;
  }

  private runOldest(): void {
    const { out, copy } = this.sent.shift() as (typeof this.sent)[number];
    const sampled = this.worker.step(copy);
    if (out.scheduled.length > 0) this.record(this.scheduler.updateFromOutput(out, sampled));
    const next = this.sent[0];
    if (next !== undefined) this.scheduler.resolvePlaceholders(next.out); // as the engine loop does
    this.reportTime(out);
  }

  private reportTime(out: SchedulerOutput<{ temperature: number }>): void {
    if (this.stepSeconds !== undefined && out.scheduled.length > 0) this.scheduler.recordStepTime(out, this.stepSeconds(out));
  }

  /** Steps until nothing is left (at most `maxSteps`); returns the number of steps. */
  runToCompletion(maxSteps = 1000): number {
    let n = 0;
    while ((this.scheduler.numUnfinishedRequests > 0 || this.hasUnreported) && n < maxSteps) {
      this.step();
      n++;
    }
    if (this.scheduler.numUnfinishedRequests > 0) throw new Error(`not done after ${maxSteps} steps`);
    this.step(); // delivers the last forget ids to the worker
    return n;
  }

  record(updates: readonly RequestUpdate[]): void {
    for (const u of updates) {
      const list = this.outputs.get(u.requestId) ?? [];
      list.push(u.token);
      this.outputs.set(u.requestId, list);
      if (u.finished !== undefined) this.finished.set(u.requestId, u.finished);
    }
  }
}
