// WorkerGroup: the coordinator's view of N ranks. Spawns local workers (or connects to given
// addresses, retrying while they start: worker-connect.ts), runs the rendezvous (CreateCommId on
// rank 0, InitComm on all), loads the model on all ranks concurrently, fans every Step out to
// every rank and returns rank 0's answer.
// A worker that exits, misses a deadline or fails a step fails the group with an error naming
// the rank and the kind of fault; the group then stops every process it spawned (by pid).
// SupervisedWorkerGroup (supervised-worker-group.ts) replaces a failed group with a new one.
import { cpus } from 'node:os';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { StepExecutor } from '../../native/src/step-executor';
import type { Device, KvCacheDtype, ModelInfo, StepInput, StepOutput, Quantization, WeightDType } from '../../native/src/types';
import { modelInfoFromProto, stepInputToProto, stepOutputFromProto, type ProtoStepResponse } from '../../worker-protocol/src/step-codec';
import { encodeStepRequest } from '../../worker-protocol/src/proto-loader';
import { WorkerClient } from './worker-client';
import { planCpuComm, waitForWorkers, workerClients, type CommChoice, type RemoteWorkerOptions } from './worker-connect';
import type { WorkerRpcError } from './worker-rpc-error';
import { WorkerProcess } from './worker-process';

export interface WorkerGroupOptions {
  modelDir: string;
  device: Device;
  dtype?: WeightDType;
  quantization?: Quantization;
  quantizeLmHead?: boolean;
  /** Each token's logits independent of the rest of its step (CPU only; EngineOptions.batchInvariant). */
  batchInvariant?: boolean;
  /** KV cache element type ('auto' or absent: the model's own; EngineOptions.kvCacheDtype). */
  kvCacheDtype?: KvCacheDtype;
  /** Spawn this many local workers (ignored when addresses are given). */
  tp?: number;
  /** Connect to running workers instead, rank r at addresses[r]. */
  addresses?: string[];
  numThreadsPerRank?: number;
  kvCacheBytes?: number;
  numKvBlocks?: number;
  kvBlockSize?: number;
  stepTimeoutMs?: number;
  loadTimeoutMs?: number;
  /** Extra environment for spawned workers. */
  env?: NodeJS.ProcessEnv;
  /** Ranks by address: TLS, insecure flag, connect timeout (worker-connect.ts). */
  remote?: RemoteWorkerOptions;
  /** CPU communicator: "auto" (default: shm on one host, gloo across hosts), "shm" or "gloo". */
  comm?: CommChoice;
}

/**
 * exit: a rank's process ended; hang: a rank answered neither Step nor Health in time; step_error:
 * a rank failed the step; load: the start (spawn, rendezvous, load) failed; sequence: every rank
 * rejected the step for one sequence (seqId) before changing any state: the group stays healthy.
 */
export type WorkerFaultKind = 'exit' | 'hang' | 'step_error' | 'load' | 'sequence';

export class WorkerGroupError extends Error {
  constructor(
    message: string,
    readonly rank: number | undefined,
    readonly kind: WorkerFaultKind = 'step_error',
    /** The faulty rank's process id, when this group spawned it. */
    readonly pid?: number,
    /** kind 'sequence': the sequence the step was rejected for. */
    readonly seqId?: number,
  ) {
    super(message);
  }
}

export class WorkerGroup implements StepExecutor {
  private failure: WorkerGroupError | undefined;
  private readonly failureListeners: Array<(err: WorkerGroupError) => void> = [];
  private modelInfo: ModelInfo | undefined;
  private closed = false;
  private rejectFailed: (err: WorkerGroupError) => void = () => {};
  private readonly failed: Promise<never> = new Promise<never>((_, reject) => {
    this.rejectFailed = reject;
  });
  // fan-out overhead: a running sum, not a list (a server runs millions of steps)
  private numTimedSteps = 0;
  private totalOverheadUs = 0;

  private constructor(
    private readonly clients: WorkerClient[],
    private readonly processes: WorkerProcess[],
    private readonly options: WorkerGroupOptions,
  ) {
    this.failed.catch(() => undefined);  // observed through raceFailure
    for (const p of processes) {
      p.onExit((exit) => {
        if (this.closed) return;
        this.fail(new WorkerGroupError(
          `worker rank ${p.rank} (pid ${p.child.pid}) exited unexpectedly (code ${exit.code}, signal ${exit.signal})`,
          p.rank,
          'exit',
          p.child.pid,
        ));
      });
    }
  }

  static async start(options: WorkerGroupOptions): Promise<WorkerGroup> {
    let processes: WorkerProcess[] = [];
    let addresses = options.addresses;
    if (!addresses || addresses.length === 0) {
      const tp = options.tp ?? 1;
      const started = await Promise.allSettled(
        Array.from({ length: tp }, (_, rank) => WorkerProcess.spawn(rank, { device: options.device, env: options.env })),
      );
      processes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) {
        await Promise.all(processes.map((p) => p.stop(0)));
        throw failed.reason;
      }
      addresses = processes.map((p) => p.address);
    }
    const clients = processes.length > 0 ? addresses.map((a, rank) => new WorkerClient(rank, a)) : workerClients(addresses, options.remote ?? {});
    const group = new WorkerGroup(clients, processes, options);
    try {
      if (processes.length === 0) await group.raceFailure(waitForWorkers(clients, options.remote?.connectTimeoutMs ?? 120_000));
      await group.rendezvousAndLoad();
    } catch (err) {
      await group.close();
      throw group.failure ?? err;
    }
    return group;
  }

  /**
   * Mean gRPC fan-out overhead per step (µs) since the last reset: the time from sending a Step
   * to every rank until all answered, minus rank 0's handler time.
   */
  get fanOutOverheadUs(): number {
    return this.numTimedSteps ? this.totalOverheadUs / this.numTimedSteps : 0;
  }

  resetFanOutOverhead(): void {
    this.numTimedSteps = 0;
    this.totalOverheadUs = 0;
  }

  get size(): number {
    return this.clients.length;
  }

  /** Process ids of the workers this group spawned, by rank (empty when it connected to addresses). */
  get pids(): number[] {
    return this.processes.map((p) => p.child.pid ?? -1);
  }

  info(): ModelInfo {
    if (!this.modelInfo) throw new Error('the worker group has no model loaded');
    return this.modelInfo;
  }

  /** Called once when the group fails (a worker died or missed a deadline). */
  onFailure(listener: (err: WorkerGroupError) => void): void {
    if (this.failure) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  async step(input: StepInput): Promise<StepOutput> {
    if (this.failure) throw this.failure;
    if (this.closed) throw new WorkerGroupError('the worker group is closed', undefined);
    const request = encodeStepRequest(stepInputToProto(input)); // once, for every rank
    const timeout = this.options.stepTimeoutMs ?? 120_000;
    const sent = process.hrtime.bigint();
    const replies = this.clients.map((c) => c.step(request, timeout));
    const results = await this.raceFailure(Promise.allSettled(replies));
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) {
      const sequenceFault = this.sequenceFault(results);
      if (sequenceFault) throw sequenceFault;
      // A dead worker usually surfaces first as an RPC error; give its exit event a moment.
      await new Promise((r) => setTimeout(r, 200));
      if (this.failure) throw this.failure;
      throw this.fail(await this.blame(results, timeout));
    }
    const first = (results[0] as PromiseFulfilledResult<ProtoStepResponse>).value;
    const out = stepOutputFromProto(first);
    // in lockstep the rank that waited longest held every rank back
    out.timings.waitUs = Math.max(...results.map((r) => (r as PromiseFulfilledResult<ProtoStepResponse>).value.timings?.waitUs ?? 0));
    const totalUs = Number(process.hrtime.bigint() - sent) / 1000;
    this.numTimedSteps++;
    this.totalOverheadUs += Math.max(0, totalUs - out.handlerUs);
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // ranks by address are standalone `tpserve worker` processes (pods): they stay up
    const keepProcess = this.processes.length === 0;
    await Promise.allSettled(this.clients.map((c) => c.call('shutdown', { keepProcess }, 2000)));
    for (const c of this.clients) c.close();
    await Promise.all(this.processes.map((p) => p.stop(2000)));
  }

  /**
   * Fencing: ends every rank this group spawned at once (SIGKILL by pid, which also ends a
   * SIGSTOPped one) and resolves when all have exited, so no old rank outlives its group.
   */
  async fence(): Promise<void> {
    this.closed = true;
    for (const c of this.clients) c.close();
    await Promise.all(this.processes.map((p) => p.stop(0)));
  }

  private async rendezvousAndLoad(): Promise<void> {
    const o = this.options;
    const deadline = o.loadTimeoutMs ?? 600_000;
    let commId = '';
    if (this.clients.length > 1) {
      const plan = await this.raceFailure(planCpuComm(this.clients, o.comm ?? 'auto', o.device));
      const res = await this.raceFailure(
        this.clients[0].call<{ commId: string }>('createCommId', { device: o.device, backend: plan.backend, host: plan.host }, 10_000),
      );
      commId = res.commId;
    }
    await this.raceFailure(
      Promise.all(this.clients.map((c) => c.call('initComm', { commId, rank: c.rank, size: this.clients.length }, 90_000))),
    );
    const request = {
      modelDir: o.modelDir,
      dtype: o.dtype ?? 'auto',
      quantization: o.quantization ?? 'none',
      quantizeLmHead: o.quantizeLmHead ?? false,
      batchInvariant: o.batchInvariant ?? false,
      kvCacheDtype: o.kvCacheDtype ?? 'auto',
      device: o.device,
      kvCacheBytes: o.kvCacheBytes ?? 0,
      numKvBlocks: o.numKvBlocks ?? 0,
      kvBlockSize: o.kvBlockSize ?? 16,
      // CPU ranks on one host share its cores: by default each takes an equal part.
      numThreads: o.numThreadsPerRank || (o.device === 'cpu' && !o.addresses ? Math.max(1, Math.floor(cpus().length / this.clients.length)) : 0),
    };
    // The first rank to fail fails the load: the others may wait in the communicator's join for
    // a rank that will never come, until the group closes them.
    const loaded = await this.raceFailure(
      Promise.all(
        this.clients.map((c) =>
          c.call<{ model: Record<string, unknown> }>('loadModel', { ...request, deviceIndex: c.rank }, deadline),
        ),
      ),
    ).catch((err: WorkerRpcError | WorkerGroupError) => {
      throw err instanceof WorkerGroupError ? err : new WorkerGroupError(err.message, err.rank, 'load', this.pids[err.rank]);
    });
    const infos = loaded.map((r) => modelInfoFromProto(r.model));
    // The group can use only as many blocks as the smallest rank holds.
    this.modelInfo = { ...infos[0], numKvBlocks: Math.min(...infos.map((i) => i.numKvBlocks)) };
  }

  /**
   * The error of a failed step, naming the rank at fault. After a deadline every rank may have
   * timed out (the healthy ones wait in the all-reduce for the stuck one), so ask each for Health:
   * a rank that answers with no model loaded is a new process at the old address (its host
   * vanished and came back, a rescheduled pod): it lost the group's state, and it is the cause
   * even when a loaded machine makes a healthy rank miss Health's 1 s. Otherwise a rank whose
   * process no longer answers at all is the stuck one.
   */
  private async blame(results: PromiseSettledResult<unknown>[], timeoutMs: number): Promise<WorkerGroupError> {
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as WorkerRpcError] : []));
    if (errors.some((e) => e.code === grpcStatus.DEADLINE_EXCEEDED)) {
      const health = await Promise.allSettled(this.clients.map((c) => c.call<{ modelLoaded?: boolean }>('health', {}, 1000)));
      const replaced = health.findIndex((h) => h.status === 'fulfilled' && h.value.modelLoaded !== true);
      if (replaced >= 0) {
        const c = this.clients[replaced];
        return new WorkerGroupError(
          `worker rank ${replaced} (${c.address}) was replaced: it answered Health as a new process with no model loaded, not Step within ${timeoutMs} ms`,
          replaced,
          'exit',
          this.pids[replaced],
        );
      }
      const stuck = health.findIndex((h) => h.status === 'rejected');
      if (stuck >= 0) {
        const c = this.clients[stuck];
        return new WorkerGroupError(
          `worker rank ${stuck} (${c.address}) is stuck: it answered neither Step within ${timeoutMs} ms nor Health within 1000 ms`,
          stuck,
          'hang',
          this.pids[stuck],
        );
      }
    }
    // an unreachable rank (its host or process gone) is the cause; the others' collectives
    // failed because of it (Gloo/NCCL report "peer dead or unreachable")
    const cause = errors.find((e) => e.code === grpcStatus.UNAVAILABLE) ?? errors.find((e) => !/peer dead or unreachable/.test(e.message)) ?? errors[0];
    const kind = cause.code === grpcStatus.DEADLINE_EXCEEDED ? 'hang' : 'step_error';
    return new WorkerGroupError(cause.message, cause.rank, kind, this.pids[cause.rank]);
  }

  /**
   * Every rank rejected the step for the same sequence: they all validate the same step before
   * touching state, so they still agree and the group goes on (not failed, no respawn). Any
   * other mix (one rank ran the step, another did not) leaves the ranks apart: a group fault.
   */
  private sequenceFault(results: PromiseSettledResult<unknown>[]): WorkerGroupError | undefined {
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as WorkerRpcError] : []));
    const seqId = errors[0]?.seqId;
    if (errors.length !== results.length || seqId === undefined || errors.some((e) => e.seqId !== seqId)) return undefined;
    return new WorkerGroupError(errors[0].message, errors[0].rank, 'sequence', this.pids[errors[0].rank], seqId);
  }

  private fail(err: WorkerGroupError): WorkerGroupError {
    if (this.failure) return this.failure;
    this.failure = err;
    this.rejectFailed(err);
    for (const l of this.failureListeners.splice(0)) l(err);
    // Leave no process behind: a group with a dead rank cannot continue.
    for (const p of this.processes) p.kill();
    return err;
  }

  /** Rejects as soon as the group fails, instead of waiting for a deadline. */
  private raceFailure<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.failed]);
  }
}
