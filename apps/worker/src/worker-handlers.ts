// The gRPC handlers of one worker rank: a thin shell around the native engine. Engine errors
// become gRPC errors carrying the engine's message; nothing here makes scheduling decisions.
import * as grpc from '@grpc/grpc-js';
import { loadStageUnits, NativeEngine } from '../../../libs/native/src/native-engine';
import type { Device, KvCacheDtype, Quantization } from '../../../libs/native/src/types';
import { modelInfoToProto, type ProtoStepRequest, type ProtoStepResponse } from '../../../libs/worker-protocol/src/step-codec';
import { StepRunner } from './step-runner';

interface CommState {
  commId: string;
  rank: number;
  size: number;
}

/** What a rank knows about itself (from its options and host). */
export interface WorkerIdentity {
  device: Device;
  /** GPU index given on the command line (overrides LoadModel's device_index). */
  gpu?: number;
  advertiseHost: string;
  hostId: string;
}

/** Which collective library a communicator id names (the ids are self-describing). */
function commKind(commId: string): string {
  if (commId.startsWith('gloo-tcp://')) return 'gloo';
  return commId.startsWith('tpserve-shm-') ? 'shm' : 'nccl';
}

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

export class WorkerHandlers {
  private engine: NativeEngine | undefined;
  private comm: CommState = { commId: '', rank: 0, size: 1 };
  private loading = false;
  private readonly steps = new StepRunner(() => this.engine, () => this.comm.rank, (m) => this.log(m));

  constructor(
    private readonly identity: WorkerIdentity,
    private readonly onShutdown: () => void,
    private readonly log: (message: string) => void,
  ) {}

  implementation(): grpc.UntypedServiceImplementation {
    return {
      info: this.unary(async () => ({
        rank: this.comm.rank,
        device: this.identity.device,
        backend: this.engine?.info().device ?? '',
        pid: process.pid,
        modelLoaded: this.engine !== undefined,
        model: this.engine ? modelInfoToProto(this.engine.info()) : undefined,
        hostId: this.identity.hostId,
        advertiseHost: this.identity.advertiseHost,
      })),
      health: this.unary(async () => ({
        modelLoaded: this.engine !== undefined,
        lastStepId: this.steps.lastStepId,
      })),
      createCommId: this.unary(async (req: { device?: string; backend?: string; host?: string }) => {
        const backend = req.backend || 'shm';
        if (backend !== 'shm' && backend !== 'gloo') throw new Error(`CreateCommId: unknown CPU communicator '${backend}' (expected shm or gloo)`);
        const device = (req.device as Device) || this.identity.device;
        return { commId: NativeEngine.createCommId(device, backend, req.host || this.identity.advertiseHost) };
      }),
      initComm: this.unary(async (req: { commId?: string; rank?: number; size?: number }) => {
        const size = req.size ?? 1;
        const rank = req.rank ?? 0;
        if (size < 1 || rank < 0 || rank >= size) throw new Error(`InitComm: rank ${rank} is not in a group of ${size}`);
        if (size > 1 && !req.commId) throw new Error('InitComm: a group of several ranks needs a comm_id');
        // a step of a broken group ends within the collective timeout (its peer is gone)
        for (let waited = 0; this.isBusy && waited < 60_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
        if (this.isBusy) throw new Error('InitComm: this rank is still running a step or a load of an earlier group');
        this.releaseEngine(`InitComm of a new group (rank ${rank} of ${size})`);
        this.comm = { commId: req.commId ?? '', rank, size };
        return {};
      }),
      loadModel: this.unary(async (req: Record<string, unknown>) => this.loadModel(req)),
      step: this.unary((req: ProtoStepRequest) => this.steps.run(req)),
      stepStream: (call: grpc.ServerDuplexStream<ProtoStepRequest, ProtoStepResponse>) => this.steps.serve(call),
      shutdown: this.unary(async (req: { keepProcess?: boolean }) => {
        if (req.keepProcess && !this.isBusy) this.releaseEngine('the coordinator released the group');
        else setImmediate(() => this.onShutdown());
        return {};
      }),
    };
  }

  /** True while a step or a model load runs on a libuv thread. */
  get isBusy(): boolean {
    return this.steps.isStepping || this.loading;
  }

  /** A standalone rank outlives its coordinator: it drops the old group's engine to join a new one. */
  private releaseEngine(why: string): void {
    if (!this.engine) return;
    this.log(`rank ${this.comm.rank}: releasing the loaded model (${why})`);
    this.engine.dispose();
    this.engine = undefined;
    this.steps.reset();
  }

  /** Frees the engine, unless a step still runs on it (the process is exiting then anyway). */
  dispose(): void {
    if (!this.steps.isStepping) this.engine?.dispose();
    this.engine = undefined;
  }

  private async loadModel(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.engine) throw new Error('LoadModel: a model is already loaded on this rank');
    if (this.loading) throw new Error('LoadModel: already loading');
    const modelDir = String(req.modelDir ?? '');
    if (!modelDir) throw new Error('LoadModel: model_dir is required');
    this.loading = true;
    const started = Date.now();
    if (this.comm.size > 1) this.log(`rank ${this.comm.rank} of ${this.comm.size}: joining the ${commKind(this.comm.commId)} group ${this.comm.commId}`);
    try {
      const num = (k: string): number | undefined => (typeof req[k] === 'number' && (req[k] as number) > 0 ? (req[k] as number) : undefined);
      this.engine = await NativeEngine.load(
        {
          modelDir,
          device: (String(req.device || this.identity.device) as Device),
          deviceIndex: this.identity.gpu ?? num('deviceIndex'),
          dtype: (String(req.dtype || 'auto') as 'auto'),
          quantization: (String(req.quantization || 'none') as Quantization),
          quantizeLmHead: req.quantizeLmHead === true,
          batchInvariant: req.batchInvariant === true,
          kvCacheDtype: req.kvCacheDtype ? (String(req.kvCacheDtype) as KvCacheDtype) : undefined,
          kvBlockSize: num('kvBlockSize'),
          numKvBlocks: num('numKvBlocks'),
          kvCacheBytes: num('kvCacheBytes'),
          numThreads: num('numThreads'),
          tpRank: this.comm.rank,
          tpSize: this.comm.size,
          commId: this.comm.commId || undefined,
        },
        (stage, done, total) => {
          // Long loads (72 GB on GPUs) log every tenth so that pod logs show progress.
          if (done !== total && done % Math.max(1, Math.ceil(total / 10)) !== 0) return;
          this.log(`rank ${this.comm.rank}: ${done}/${total} ${loadStageUnits(stage)}`);
        },
      );
    } finally {
      this.loading = false;
    }
    const info = this.engine.info();
    const loadSeconds = (Date.now() - started) / 1000;
    this.log(`rank ${this.comm.rank}: loaded in ${loadSeconds.toFixed(1)} s on ${info.device}`);
    return { model: modelInfoToProto(info), loadSeconds };
  }

  private unary<Req, Res>(fn: (req: Req) => Promise<Res>): Handler<Req, Res> {
    return (call, callback) => {
      fn(call.request).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          this.log(`rank ${this.comm.rank}: ${message}`);
          callback({ code: grpc.status.INTERNAL, details: message, name: 'WorkerError', message });
        },
      );
    };
  }
}
