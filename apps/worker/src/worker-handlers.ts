// The gRPC handlers of one worker rank: a thin shell around the native engine. Engine errors
// become gRPC errors carrying the engine's message; nothing here makes scheduling decisions.
import * as grpc from '@grpc/grpc-js';
import { NativeEngine } from '../../../libs/native/src/native-engine';
import type { Device } from '../../../libs/native/src/types';
import {
  modelInfoToProto,
  stepInputFromProto,
  stepOutputToProto,
  type ProtoStepRequest,
  type ProtoStepResponse,
} from '../../../libs/worker-protocol/src/step-codec';

interface CommState {
  commId: string;
  rank: number;
  size: number;
}

type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

export class WorkerHandlers {
  private engine: NativeEngine | undefined;
  private comm: CommState = { commId: '', rank: 0, size: 1 };
  private lastStepId = 0;
  private loading = false;
  private isStepping = false;

  constructor(
    private readonly device: Device,
    private readonly onShutdown: () => void,
    private readonly log: (message: string) => void,
  ) {}

  implementation(): grpc.UntypedServiceImplementation {
    return {
      info: this.unary(async () => ({
        rank: this.comm.rank,
        device: this.device,
        backend: this.engine?.info().device ?? '',
        pid: process.pid,
        modelLoaded: this.engine !== undefined,
        model: this.engine ? modelInfoToProto(this.engine.info()) : undefined,
      })),
      health: this.unary(async () => ({
        modelLoaded: this.engine !== undefined,
        lastStepId: this.lastStepId,
      })),
      createCommId: this.unary(async (req: { device?: string }) => ({
        commId: NativeEngine.createCommId((req.device as Device) || this.device),
      })),
      initComm: this.unary(async (req: { commId?: string; rank?: number; size?: number }) => {
        const size = req.size ?? 1;
        const rank = req.rank ?? 0;
        if (size < 1 || rank < 0 || rank >= size) throw new Error(`InitComm: rank ${rank} is not in a group of ${size}`);
        if (size > 1 && !req.commId) throw new Error('InitComm: a group of several ranks needs a comm_id');
        this.comm = { commId: req.commId ?? '', rank, size };
        return {};
      }),
      loadModel: this.unary(async (req: Record<string, unknown>) => this.loadModel(req)),
      step: this.unary((req: ProtoStepRequest) => this.runStep(req)),
      stepStream: (call: grpc.ServerDuplexStream<ProtoStepRequest, ProtoStepResponse>) => this.serveStepStream(call),
      shutdown: this.unary(async () => {
        setImmediate(() => this.onShutdown());
        return {};
      }),
    };
  }

  private async runStep(req: ProtoStepRequest): Promise<ProtoStepResponse> {
    if (!this.engine) throw new Error('Step before LoadModel');
    const started = process.hrtime.bigint();
    this.isStepping = true;
    const out = await this.engine.step(stepInputFromProto(req)).finally(() => {
      this.isStepping = false;
    });
    this.lastStepId = out.stepId;
    return stepOutputToProto(out, this.comm.rank, Number(process.hrtime.bigint() - started) / 1000);
  }

  /** StepStream: steps run one after another in arrival order; each gets one response. */
  private serveStepStream(call: grpc.ServerDuplexStream<ProtoStepRequest, ProtoStepResponse>): void {
    let queue: Promise<void> = Promise.resolve();
    call.on('data', (req: ProtoStepRequest) => {
      queue = queue.then(async () => {
        const res = await this.runStep(req).catch((err: unknown): ProtoStepResponse => {
          const message = err instanceof Error ? err.message : String(err);
          this.log(`rank ${this.comm.rank}: ${message}`);
          const seqId = (err as { seqId?: unknown } | undefined)?.seqId;
          const fault = typeof seqId === 'number' ? { sequenceFault: { seqId } } : {};
          return { stepId: req.stepId, rank: this.comm.rank, error: message, ...fault };
        });
        call.write(res);
      });
    });
    call.on('end', () => void queue.then(() => call.end()));
    call.on('error', () => undefined);  // the client went away; nothing to answer
  }

  /** True while a step or a model load runs on a libuv thread. */
  get isBusy(): boolean {
    return this.isStepping || this.loading;
  }

  /** Frees the engine, unless a step still runs on it (the process is exiting then anyway). */
  dispose(): void {
    if (!this.isStepping) this.engine?.dispose();
    this.engine = undefined;
  }

  private async loadModel(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.engine) throw new Error('LoadModel: a model is already loaded on this rank');
    if (this.loading) throw new Error('LoadModel: already loading');
    const modelDir = String(req.modelDir ?? '');
    if (!modelDir) throw new Error('LoadModel: model_dir is required');
    this.loading = true;
    const started = Date.now();
    try {
      const num = (k: string): number | undefined => (typeof req[k] === 'number' && (req[k] as number) > 0 ? (req[k] as number) : undefined);
      this.engine = await NativeEngine.load(
        {
          modelDir,
          device: (String(req.device || this.device) as Device),
          deviceIndex: num('deviceIndex'),
          dtype: (String(req.dtype || 'auto') as 'auto'),
          kvCacheDtype: req.kvCacheDtype ? (String(req.kvCacheDtype) as 'f32') : undefined,
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
          const what = stage === 'weights' ? 'weight tensors mapped' : 'layers moved to the device';
          this.log(`rank ${this.comm.rank}: ${done}/${total} ${what}`);
        },
      );
    } finally {
      this.loading = false;
    }
    return { model: modelInfoToProto(this.engine.info()), loadSeconds: (Date.now() - started) / 1000 };
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
