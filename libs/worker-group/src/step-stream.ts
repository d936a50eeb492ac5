// StepStream: one long-lived StepStream call to a rank, so a step costs one message each way
// instead of a new HTTP/2 stream per call (about 3 ms saved per step on CPU). Responses come
// back in request order; each pending step has its own deadline, counted from when the rank can
// start it (async scheduling sends a step while the one before it still runs: its deadline
// starts when that one answers). A broken stream rejects every pending step with a
// WorkerRpcError naming the rank.
import * as grpc from '@grpc/grpc-js';
import type { ProtoStepResponse } from '../../worker-protocol/src/step-codec';
import { WorkerRpcError } from './worker-rpc-error';

interface Pending {
  resolve: (res: ProtoStepResponse) => void;
  reject: (err: WorkerRpcError) => void;
  timeoutMs: number;
  timer?: NodeJS.Timeout;
}

export class StepStream {
  private call: grpc.ClientDuplexStream<Buffer, ProtoStepResponse> | undefined;
  private readonly pending: Pending[] = [];

  constructor(
    private readonly open: () => grpc.ClientDuplexStream<Buffer, ProtoStepResponse>,
    private readonly rank: number,
    private readonly address: string,
  ) {}

  /** `request`: the StepRequest's encoded bytes (the same buffer goes to every rank). */
  send(request: Buffer, timeoutMs: number): Promise<ProtoStepResponse> {
    const call = this.call ?? this.start();
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject, timeoutMs };
      this.pending.push(p);
      if (this.pending.length === 1) this.startDeadline(p);
      call.write(request);
    });
  }

  private startDeadline(p: Pending): void {
    p.timer = setTimeout(() => {
      this.broken(grpc.status.DEADLINE_EXCEEDED, `did not answer Step within ${p.timeoutMs} ms`);
    }, p.timeoutMs);
  }

  close(): void {
    this.call?.end();
    this.call = undefined;
  }

  private start(): grpc.ClientDuplexStream<Buffer, ProtoStepResponse> {
    const call = this.open();
    call.on('data', (res: ProtoStepResponse) => {
      const p = this.pending.shift();
      if (!p) return;
      clearTimeout(p.timer);
      if (this.pending.length > 0) this.startDeadline(this.pending[0]);
      if (res.error) p.reject(this.error(grpc.status.INTERNAL, `failed step: ${res.error}`, res.sequenceFault?.seqId));
      else p.resolve(res);
    });
    call.on('error', (err: grpc.ServiceError) => {
      const why = err.code === grpc.status.UNAVAILABLE ? `is unreachable (${err.details})` : `failed step: ${err.details || err.message}`;
      this.broken(err.code, why);
    });
    call.on('end', () => this.broken(grpc.status.UNAVAILABLE, 'closed its step stream'));
    this.call = call;
    return call;
  }

  private broken(code: grpc.status, why: string): void {
    if (this.call) {
      this.call.removeAllListeners();
      this.call.on('error', () => undefined);
      this.call.cancel();
      this.call = undefined;
    }
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(this.error(code, why));
    }
  }

  private error(code: grpc.status, why: string, seqId?: number): WorkerRpcError {
    return new WorkerRpcError(this.rank, 'step', code, `worker rank ${this.rank} (${this.address}) ${why}`, seqId);
  }
}
