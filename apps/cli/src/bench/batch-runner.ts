// BatchRunner: drives a StepExecutor for the benchmarks with batches of identical sequences
// (one prefill step for all, then lockstep decode steps), owning every KV block. Not a scheduler:
// blocks are handed out in order and all returned by finishAll().
import type { StepExecutor } from '../../../../libs/native/src/step-executor';
import { PLACEHOLDER_TOKEN, type ScheduledSequence, type StepOutput } from '../../../../libs/native/src/types';

interface Running {
  seqId: number;
  numTokens: number;
  numBlocks: number;
  lastToken: number;
}

export class BatchRunner {
  private nextStepId = 1;
  private nextSeqId = 1;
  private nextBlockId = 0;
  private running: Running[] = [];
  private seed = 12345;
  /** Rank 0's time inside collectives during the last timedDecode call (ms, all its steps). */
  lastDecodeCollectiveMs = 0;

  constructor(private readonly executor: StepExecutor) {}

  /** One small step, so that first-touch costs (page faults of the weights) are not timed. */
  async warmup(): Promise<void> {
    await this.timedPrefill(1, 8);
    await this.timedDecode(1);
    await this.finishAll();
  }

  /** Starts `batch` sequences of `numTokens` random tokens in one step; returns its wall time (ms). */
  async timedPrefill(batch: number, numTokens: number): Promise<number> {
    const vocab = this.executor.info().vocabSize;
    const seqs: Running[] = Array.from({ length: batch }, () => ({ seqId: this.nextSeqId++, numTokens: 0, numBlocks: 0, lastToken: 0 }));
    const scheduled = seqs.map((s) => this.schedule(s, Array.from({ length: numTokens }, () => this.randomToken(vocab))));
    const started = process.hrtime.bigint();
    const out = await this.executor.step({
      stepId: this.nextStepId++,
      newSequences: seqs.map((s) => ({ seqId: s.seqId, params: { temperature: 0 }, numPromptTokens: numTokens })),
      scheduled,
      finished: [],
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    for (const sample of out.samples) seqs.find((s) => s.seqId === sample.seqId)!.lastToken = sample.token;
    this.running.push(...seqs);
    return ms;
  }

  /**
   * `numSteps` decode steps of every running sequence; returns their total wall time (ms).
   * `stepsAhead` > 0 sends up to that many steps before the reply of the one before them, with
   * placeholders for its tokens (filled on the engine), as the server's async scheduling does;
   * 0 waits for each reply before sending the next step.
   */
  async timedDecode(numSteps: number, stepsAhead = 0): Promise<number> {
    this.lastDecodeCollectiveMs = 0;
    const inFlight: Promise<StepOutput>[] = [];
    const started = process.hrtime.bigint();
    for (let i = 0; i < numSteps; i++) {
      while (inFlight.length > stepsAhead) this.applySamples(await inFlight.shift()!);
      const behind = inFlight.length > 0;
      const scheduled = this.running.map((s) => this.schedule(s, [behind ? PLACEHOLDER_TOKEN : s.lastToken]));
      inFlight.push(this.executor.step({ stepId: this.nextStepId++, newSequences: [], scheduled, finished: [], shareSamples: stepsAhead > 0 }));
    }
    while (inFlight.length > 0) this.applySamples(await inFlight.shift()!);
    return Number(process.hrtime.bigint() - started) / 1e6;
  }

  private applySamples(out: StepOutput): void {
    this.lastDecodeCollectiveMs += out.timings.collectiveUs / 1000;
    for (const sample of out.samples) this.running.find((s) => s.seqId === sample.seqId)!.lastToken = sample.token;
  }

  /** Forgets every running sequence and takes all KV blocks back. */
  async finishAll(): Promise<void> {
    await this.executor.step({ stepId: this.nextStepId++, newSequences: [], scheduled: [], finished: this.running.map((s) => s.seqId) });
    this.running = [];
    this.nextBlockId = 0;
  }

  private schedule(s: Running, tokens: number[]): ScheduledSequence {
    const blockSize = this.executor.info().kvBlockSize;
    const needed = Math.ceil((s.numTokens + tokens.length) / blockSize);
    const newBlockIds: number[] = [];
    for (; s.numBlocks < needed; s.numBlocks++) newBlockIds.push(this.nextBlockId++);
    if (this.nextBlockId > this.executor.info().numKvBlocks) throw new Error(`the benchmark needs more than ${this.executor.info().numKvBlocks} KV blocks`);
    const startPos = s.numTokens;
    s.numTokens += tokens.length;
    return { seqId: s.seqId, tokens, startPos, newBlockIds, sample: true, logits: 'none' };
  }

  private randomToken(vocab: number): number {
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) >>> 0;
    return (this.seed >>> 8) % vocab;
  }
}
