// The step path of one worker rank: runs Steps on the native engine one after another, in
// arrival order, and measures how long the engine sat idle before each (StepTimings.wait_us:
// the end of its previous step to the start of this one). The coordinator sends step N+1 before
// N's reply (async scheduling), so N+1 is usually queued here when N ends and starts at once:
// it is decoded on arrival, and N's reply is written only after N+1 was handed to the engine.
import type * as grpc from '@grpc/grpc-js';
import type { NativeEngine } from '../../../libs/native/src/native-engine';
import type { StepInput } from '../../../libs/native/src/types';
import {
  stepInputFromProto,
  stepOutputToProto,
  type ProtoStepRequest,
  type ProtoStepResponse,
} from '../../../libs/worker-protocol/src/step-codec';

export class StepRunner {
  /** hrtime (ns) when the engine finished its last step; undefined before the first. */
  private lastEndedAt: bigint | undefined;
  private queue: Promise<unknown> = Promise.resolve();
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

  /** A new group or model: the idle time of the next step counts from scratch. */
  reset(): void {
    this.lastEndedAt = undefined;
    this.lastStepId = 0;
  }

  /** Runs `req` after every step queued before it; resolves with its StepResponse or rejects. */
  run(req: ProtoStepRequest): Promise<ProtoStepResponse> {
    const received = process.hrtime.bigint();
    let input: StepInput | undefined;
    let decodeError: unknown;
    try {
      input = stepInputFromProto(req); // now, not when its turn comes: off the gap between steps
    } catch (err) {
      decodeError = err;
    }
    this.numRunning++;
    const result = this.queue.then(() => {
      if (input === undefined) throw decodeError;
      return this.execute(input, received);
    });
    this.queue = result.catch(() => undefined).finally(() => this.numRunning--);
    return result;
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

  private async execute(input: StepInput, received: bigint): Promise<ProtoStepResponse> {
    const engine = this.engine();
    if (!engine) throw new Error('Step before LoadModel');
    const started = process.hrtime.bigint();
    const waitUs = this.lastEndedAt === undefined ? 0 : Number(started - this.lastEndedAt) / 1000;
    try {
      const out = await engine.step(input);
      this.lastStepId = out.stepId;
      return stepOutputToProto(out, this.rank(), Number(process.hrtime.bigint() - received) / 1000, waitUs);
    } finally {
      this.lastEndedAt = process.hrtime.bigint();
    }
  }

  private errorResponse(req: ProtoStepRequest, err: unknown): ProtoStepResponse {
    const message = err instanceof Error ? err.message : String(err);
    this.log(`rank ${this.rank()}: ${message}`);
    const seqId = (err as { seqId?: unknown } | undefined)?.seqId;
    const fault = typeof seqId === 'number' ? { sequenceFault: { seqId } } : {};
    return { stepId: req.stepId, rank: this.rank(), error: message, ...fault };
  }
}
