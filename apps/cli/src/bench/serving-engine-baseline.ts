// The denominator of the serving overhead (`tpserve bench --compare-engine DIR`): the engine's raw
// step throughput on the batch shape the API run had — `batch` sequences of `inputLen` random
// tokens prefilled in one step, then `outputLen - 1` lockstep greedy decode steps (the prefill
// step samples the first token), in waves — with no scheduler, HTTP or detokenizer. Loaded once
// and measured after each API round, so that both see the same load on a shared machine.
// tp 1 runs the engine in this process (or, with executor 'workers', in one worker process over
// gRPC, as the server does); tp > 1 runs a WorkerGroup.
import { NativeEngine } from '../../../../libs/native/src/native-engine';
import type { Device } from '../../../../libs/native/src/types';
import { WorkerGroup } from '../../../../libs/worker-group/src/worker-group';
import { BatchRunner } from './batch-runner';

export type BaselineExecutor = 'in-process' | 'workers';

export interface EngineBaselineOptions {
  modelDir: string;
  device: Device;
  tp: number;
  /** CPU threads per rank; 0 splits the cores as the server does. */
  threadsPerRank: number;
  executor: BaselineExecutor;
  batch: number;
  inputLen: number;
  outputLen: number;
  numWaves: number;
}

export interface EngineBaseline {
  executor: BaselineExecutor;
  tp: number;
  threadsPerRank: number;
  batch: number;
  inputLen: number;
  outputLen: number;
  numWaves: number;
  prefillMs: number[];
  /** Mean decode step (ms) over every wave. */
  decodeStepMs: number;
  totalMs: number;
  /** Output tokens (batch x outputLen per wave) / (prefill + decode time). */
  outputTokensPerS: number;
  /** Decode steps only: batch x 1000 / decodeStepMs. */
  decodeTokensPerS: number;
}

/** The engine, loaded once, measured between the API rounds (so both see the same machine load). */
export class EngineBaselineRunner {
  private constructor(
    private readonly o: EngineBaselineOptions,
    private readonly runner: BatchRunner,
    private readonly closeExecutor: () => Promise<void>,
  ) {}

  static async open(o: EngineBaselineOptions, log: (line: string) => void): Promise<EngineBaselineRunner> {
    if (o.outputLen < 1) throw new Error('the engine baseline needs --output-len >= 1');
    const blockSize = 16; // the engine's default KV block size, which the server uses too
    const numKvBlocks = o.batch * Math.ceil((o.inputLen + o.outputLen + 1) / blockSize) + 8;
    log(`engine baseline: loading ${o.modelDir} (tp ${o.tp}, ${o.tp === 1 ? o.executor : 'workers'})`);
    if (o.tp === 1 && o.executor === 'in-process') {
      const engine = await NativeEngine.load({ modelDir: o.modelDir, device: o.device, numThreads: o.threadsPerRank, numKvBlocks });
      return EngineBaselineRunner.warm(o, new BatchRunner(engine), async () => engine.dispose());
    }
    const group = await WorkerGroup.start({
      modelDir: o.modelDir, device: o.device, tp: o.tp, numThreadsPerRank: o.threadsPerRank || undefined, numKvBlocks,
    });
    return EngineBaselineRunner.warm(o, new BatchRunner(group), () => group.close());
  }

  private static async warm(o: EngineBaselineOptions, runner: BatchRunner, close: () => Promise<void>): Promise<EngineBaselineRunner> {
    try {
      await runner.warmup();
    } catch (err) {
      await close();
      throw err;
    }
    return new EngineBaselineRunner(o, runner, close);
  }

  /** `numWaves` batches: one prefill step, then outputLen - 1 decode steps each. */
  async measure(log: (line: string) => void): Promise<EngineBaseline> {
    const o = this.o;
    const prefillMs: number[] = [];
    let decodeMs = 0;
    for (let wave = 0; wave < o.numWaves; wave++) {
      prefillMs.push(await this.runner.timedPrefill(o.batch, o.inputLen));
      decodeMs += await this.runner.timedDecode(o.outputLen - 1);
      await this.runner.finishAll();
    }
    const totalMs = prefillMs.reduce((a, b) => a + b, 0) + decodeMs;
    const numDecodeSteps = o.numWaves * (o.outputLen - 1);
    const decodeStepMs = numDecodeSteps > 0 ? decodeMs / numDecodeSteps : 0;
    log(`engine baseline: ${o.numWaves} wave(s), prefill ${prefillMs.map((m) => m.toFixed(0)).join('/')} ms, decode ${decodeStepMs.toFixed(2)} ms/step`);
    const r2 = (x: number): number => Math.round(x * 100) / 100;
    return {
      executor: o.tp === 1 ? o.executor : 'workers',
      tp: o.tp,
      threadsPerRank: o.threadsPerRank,
      batch: o.batch,
      inputLen: o.inputLen,
      outputLen: o.outputLen,
      numWaves: o.numWaves,
      prefillMs: prefillMs.map(r2),
      decodeStepMs: r2(decodeStepMs),
      totalMs: r2(totalMs),
      outputTokensPerS: r2((o.numWaves * o.batch * o.outputLen * 1000) / totalMs),
      decodeTokensPerS: r2(decodeStepMs > 0 ? (o.batch * 1000) / decodeStepMs : 0),
    };
  }

  close(): Promise<void> {
    return this.closeExecutor();
  }
}
