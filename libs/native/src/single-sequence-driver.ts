// SingleSequenceDriver: runs one sequence at a time on a StepExecutor, owning all KV blocks
// (for the CLI's logits and generate commands and for tests; the server uses the scheduler).
import type { StepExecutor } from './step-executor';
import type { SampledToken, SamplingParams, ScheduledSequence } from './types';

export class SingleSequenceDriver {
  private nextStepId = 1;
  private nextSeqId = 1;
  private seqId = 0;
  private numCached = 0;
  private numBlocks = 0;

  /**
   * holdReplies: decode steps may have their replies held back while later ones are queued (see
   * StepInput.holdReply), for a caller that keeps several decodes in flight.
   */
  constructor(
    private readonly executor: StepExecutor,
    private readonly maxChunkTokens = 512,
    private readonly holdReplies = false,
  ) {}

  /** Starts a new sequence (forgetting the previous one) and computes its prompt in chunks. */
  async prefill(
    prompt: number[],
    params: SamplingParams,
    options: { sample: boolean; logits: 'none' | 'last' | 'all' },
  ): Promise<{ sample?: SampledToken; logits: Float32Array[] }> {
    if (prompt.length === 0) throw new Error('the prompt needs at least one token');
    const finished = this.seqId ? [this.seqId] : [];
    this.seqId = this.nextSeqId++;
    this.numCached = 0;
    this.numBlocks = 0;
    const rows: Float32Array[] = [];
    let sample: SampledToken | undefined;
    for (let begin = 0; begin < prompt.length; begin += this.maxChunkTokens) {
      const chunk = prompt.slice(begin, begin + this.maxChunkTokens);
      const isLast = begin + chunk.length >= prompt.length;
      const out = await this.run(chunk, {
        isFirst: begin === 0,
        finished: begin === 0 ? finished : [],
        params,
        numPromptTokens: prompt.length,
        sample: isLast && options.sample,
        logits: options.logits === 'all' ? 'all' : isLast ? options.logits : 'none',
      });
      rows.push(...out.logits);
      sample = out.sample ?? sample;
    }
    return { sample, logits: rows };
  }

  /**
   * Feeds one token and samples the next. `token` may be PLACEHOLDER_TOKEN while the step that
   * samples it is still running: the engine puts that sample in (pipelined decode, as the server's
   * async scheduling does), so this step starts the moment the one before it ends.
   */
  decode(token: number, logits: 'none' | 'last' = 'none'): Promise<{ sample: SampledToken; logits: Float32Array[] }> {
    if (!this.seqId) throw new Error('decode() before prefill()');
    return this.run([token], { isFirst: false, finished: [], sample: true, logits, hold: this.holdReplies }).then((out) => {
      if (!out.sample) throw new Error('the engine returned no sample');
      return { sample: out.sample, logits: out.logits };
    });
  }

  /** Forgets the current sequence on the engine. */
  async release(): Promise<void> {
    if (!this.seqId) return;
    await this.executor.step({ stepId: this.nextStepId++, newSequences: [], scheduled: [], finished: [this.seqId] });
    this.seqId = 0;
  }

  // Sends the step at once (numCached moves on before its reply, so a decode may follow it).
  private run(
    tokens: number[],
    o: {
      isFirst: boolean;
      finished: number[];
      params?: SamplingParams;
      numPromptTokens?: number;
      sample: boolean;
      logits: 'none' | 'last' | 'all';
      hold?: boolean;
    },
  ): Promise<{ sample?: SampledToken; logits: Float32Array[] }> {
    const info = this.executor.info();
    const needed = Math.ceil((this.numCached + tokens.length) / info.kvBlockSize);
    if (needed > info.numKvBlocks) {
      throw new Error(`the sequence needs ${needed} KV blocks but the engine has ${info.numKvBlocks}`);
    }
    const newBlockIds: number[] = [];
    for (; this.numBlocks < needed; this.numBlocks++) newBlockIds.push(this.numBlocks);
    const scheduled: ScheduledSequence = {
      seqId: this.seqId,
      tokens,
      startPos: this.numCached,
      newBlockIds,
      sample: o.sample,
      logits: o.logits,
    };
    const seqId = this.seqId;
    const reply = this.executor.step({
      stepId: this.nextStepId++,
      newSequences: o.isFirst ? [{ seqId, params: o.params ?? {}, numPromptTokens: o.numPromptTokens ?? 0 }] : [],
      scheduled: [scheduled],
      finished: o.finished,
      // every rank learns the sample, so that a decode may be sent before this reply
      shareSamples: o.sample,
      ...(o.hold ? { holdReply: true } : {}),
    });
    this.numCached += tokens.length;
    return reply.then((out) => {
      const rows: Float32Array[] = [];
      for (const l of out.logits) {
        const width = l.data.length / l.numRows;
        for (let r = 0; r < l.numRows; r++) rows.push(l.data.subarray(r * width, (r + 1) * width));
      }
      return { sample: out.samples.find((s) => s.seqId === seqId), logits: rows };
    });
  }
}
