// The step path of one worker rank: hands each Step to the native engine as soon as it arrives
// (decoded on arrival); the engine runs them one after another in arrival order on its own
// threads, so a step sent before the previous one's reply (async scheduling) starts the moment
// that one ends, with no trip through this event loop, and reports how long the engine sat
// idle before it (StepTimings.wait_us, measured by the addon). Replies go out in request order.
import type * as grpc from '@grpc/grpc-js';
import type { NativeEngine } from '../../../libs/native/src/native-engine';
import {
  stepInputFromProto,
  stepOutputToProto,
  type ProtoStepRequest,
  type ProtoStepResponse,
} from '../../../libs/worker-protocol/src/step-codec';

export class StepRunner {
  private numRunning = 0;
  lastStepId = 0;

  constructor(
    private readonly engine: () => NativeEngine | undefined,
    private readonly rank: () => number,
    private readonly log: (message: string) => void,
  ) {}

  /** True while a step runs (or waits for the one before it) on this rank. */
  get isStepping(): boolean {
    return this.numRunning > 0;
  }

  /** A new group or model. */
  reset(): void {
    this.lastStepId = 0;
  }

  /** Queues `req` behind every step queued before it; resolves with its StepResponse or rejects. */
  async run(req: ProtoStepRequest): Promise<ProtoStepResponse> {
    const received = process.hrtime.bigint();
    const engine = this.engine();
    if (!engine) throw new Error('Step before LoadModel');
    const input = stepInputFromProto(req);
    this.numRunning++;
    try {
      const out = await engine.step(input);
      this.lastStepId = Math.max(this.lastStepId, out.stepId);
      return stepOutputToProto(out, this.rank(), Number(process.hrtime.bigint() - received) / 1000, out.timings.waitUs ?? 0);
    } finally {
      this.numRunning--;
    }
  }

  /** StepStream: one response per request, in request order (a failed step answers its error). */
  serve(call: grpc.ServerDuplexStream<ProtoStepRequest, ProtoStepResponse>): void {
    let writes: Promise<void> = Promise.resolve();
    call.on('data', (req: ProtoStepRequest) => {
      const res = this.run(req).catch((err: unknown): ProtoStepResponse => this.errorResponse(req, err));
      writes = writes.then(() => res).then((r) => void call.write(r));
    });
    call.on('end', () => void writes.then(() => call.end()));
    call.on('error', () => undefined); // the client went away; nothing to answer
  }

  private errorResponse(req: ProtoStepRequest, err: unknown): ProtoStepResponse {
    const message = err instanceof Error ? err.message : String(err);
    this.log(`rank ${this.rank()}: ${message}`);
    const seqId = (err as { seqId?: unknown } | undefined)?.seqId;
    const fault = typeof seqId === 'number' ? { sequenceFault: { seqId } } : {};
    return { stepId: req.stepId, rank: this.rank(), error: message, ...fault };
  }
}
