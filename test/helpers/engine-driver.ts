// Drives the native engine by hand for the model tests: a trivial KV block allocator (ids handed
// out in a scrambled order, so block tables are never contiguous) and EngineDriver, which tracks
// each sequence's position and builds StepInputs. Deliberately NOT the real scheduler.
import { NativeEngine } from '../../libs/native/src/native-engine';
import type { EngineOptions, LogitsMode, SamplingParams, StepInput, StepOutput } from '../../libs/native/src/types';
import { seededRandom } from './random-checkpoint';

/** TPSERVE_TEST_DEVICE=cuda runs the model tests on a GPU; the default is the CPU engine. */
export function testDevice(): 'cpu' | 'cuda' {
  return process.env.TPSERVE_TEST_DEVICE === 'cuda' ? 'cuda' : 'cpu';
}

export function loadEngine(modelDir: string, options: Partial<EngineOptions> = {}): Promise<NativeEngine> {
  return NativeEngine.load({ modelDir, device: testDevice(), numKvBlocks: 96, numThreads: 2, ...options });
}

export class BlockAllocator {
  private readonly free: number[];
  private readonly owned = new Map<number, number[]>();

  constructor(numBlocks: number, readonly blockSize: number, seed = 7) {
    this.free = Array.from({ length: numBlocks }, (_, i) => i);
    const random = seededRandom(seed);
    for (let i = this.free.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [this.free[i], this.free[j]] = [this.free[j], this.free[i]];
    }
  }

  /** New block ids so that `seqId` holds ceil(numTokens / blockSize) blocks. */
  grow(seqId: number, numTokens: number): number[] {
    const blocks = this.owned.get(seqId) ?? [];
    const added: number[] = [];
    while (blocks.length * this.blockSize < numTokens) {
      const id = this.free.pop();
      if (id === undefined) throw new Error('test block allocator: out of KV blocks');
      blocks.push(id);
      added.push(id);
    }
    this.owned.set(seqId, blocks);
    return added;
  }

  release(seqId: number): void {
    this.free.push(...(this.owned.get(seqId) ?? []));
    this.owned.delete(seqId);
  }
}

export interface ChunkRequest {
  seqId: number;
  tokens: number[];
  sample?: boolean;
  logits?: LogitsMode;
  /** Used when the sequence is new (default: greedy). */
  params?: SamplingParams;
  /** Used when the sequence is new: prompt length and tokens so far (a recompute); default: the chunk is the prompt. */
  numPromptTokens?: number;
  promptTokens?: number[];
}

/** One row per position of a SequenceLogits, or throws if the sequence has none. */
export function logitRows(output: StepOutput, seqId: number): Float32Array[] {
  const found = output.logits.find((l) => l.seqId === seqId);
  if (!found) throw new Error(`step ${output.stepId}: no logits for sequence ${seqId}`);
  const vocab = found.data.length / found.numRows;
  return Array.from({ length: found.numRows }, (_, r) => found.data.subarray(r * vocab, (r + 1) * vocab));
}

export function sampledToken(output: StepOutput, seqId: number): number {
  const found = output.samples.find((s) => s.seqId === seqId);
  if (!found) throw new Error(`step ${output.stepId}: no sample for sequence ${seqId}`);
  return found.token;
}

export class EngineDriver {
  private readonly allocator: BlockAllocator;
  private readonly positions = new Map<number, number>();
  private nextStepId = 1;
  private nextSeqId = 1;

  constructor(readonly engine: NativeEngine) {
    const info = engine.info();
    this.allocator = new BlockAllocator(info.numKvBlocks, info.kvBlockSize);
  }

  /** One engine step; new sequences are announced, positions and blocks tracked. */
  async step(chunks: ChunkRequest[], finished: number[] = []): Promise<StepOutput> {
    const newSequences = chunks
      .filter((c) => !this.positions.has(c.seqId))
      .map((c) => ({
        seqId: c.seqId,
        params: c.params ?? { temperature: 0 },
        numPromptTokens: c.numPromptTokens ?? c.tokens.length,
        ...(c.promptTokens ? { promptTokens: c.promptTokens } : {}),
      }));
    const scheduled = chunks.map((c) => {
      const startPos = this.positions.get(c.seqId) ?? 0;
      const newBlockIds = this.allocator.grow(c.seqId, startPos + c.tokens.length);
      return { seqId: c.seqId, tokens: c.tokens, startPos, newBlockIds, sample: c.sample ?? false, logits: c.logits ?? 'none' };
    });
    let output: StepOutput;
    try {
      output = await this.engine.step({ stepId: this.nextStepId++, newSequences, scheduled, finished });
    } catch (err) {
      // a rejected step computed nothing: sequences it introduced give their blocks back
      for (const s of newSequences) this.allocator.release(s.seqId);
      throw err;
    }
    for (const c of chunks) this.positions.set(c.seqId, (this.positions.get(c.seqId) ?? 0) + c.tokens.length);
    for (const seqId of finished) this.forget(seqId);
    return output;
  }

  /** A hand-made step (for bad inputs): only the step id is filled in, nothing is tracked. */
  rawStep(input: Omit<StepInput, 'stepId'>): Promise<StepOutput> {
    return this.engine.step({ stepId: this.nextStepId++, ...input });
  }

  /** A sequence id not used before by this driver. */
  newSeqId(): number {
    return this.nextSeqId++;
  }

  // The run* drivers below each use a fresh sequence and finish it afterwards.

  /** Logits of every position of `tokens`, computed in one step. */
  async runPrefill(tokens: number[]): Promise<Float32Array[]> {
    return this.runChunkedPrefill(tokens, [tokens.length]);
  }

  /** The same, over several steps of the given chunk sizes (cycled). */
  async runChunkedPrefill(tokens: number[], chunkSizes: number[]): Promise<Float32Array[]> {
    const seqId = this.newSeqId();
    const rows: Float32Array[] = [];
    for (let begin = 0, i = 0; begin < tokens.length; i++) {
      const chunk = tokens.slice(begin, begin + chunkSizes[i % chunkSizes.length]);
      rows.push(...logitRows(await this.step([{ seqId, tokens: chunk, logits: 'all' }]), seqId));
      begin += chunk.length;
    }
    await this.finish([seqId]);
    return rows;
  }

  /** Last-position logits after the prompt, then after each continuation token fed one by one. */
  async runDecode(prompt: number[], continuation: number[]): Promise<Float32Array[]> {
    const seqId = this.newSeqId();
    const rows = logitRows(await this.step([{ seqId, tokens: prompt, logits: 'last' }]), seqId);
    for (const token of continuation) {
      rows.push(...logitRows(await this.step([{ seqId, tokens: [token], logits: 'last' }]), seqId));
    }
    await this.finish([seqId]);
    return rows;
  }

  /** Samples `numTokens` tokens after `prompt`, feeding each back in. */
  async runGenerate(prompt: number[], numTokens: number, params: SamplingParams): Promise<number[]> {
    const seqId = this.newSeqId();
    const tokens: number[] = [];
    let next = prompt;
    while (tokens.length < numTokens) {
      const output = await this.step([{ seqId, tokens: next, sample: true, params }]);
      tokens.push(sampledToken(output, seqId));
      next = [tokens[tokens.length - 1]];
    }
    await this.finish([seqId]);
    return tokens;
  }

  /** Tells the engine to forget sequences and frees their blocks. */
  async finish(seqIds: number[]): Promise<void> {
    await this.step([], seqIds);
  }

  private forget(seqId: number): void {
    this.positions.delete(seqId);
    this.allocator.release(seqId);
  }
}
