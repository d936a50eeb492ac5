// WorkerClient: a promise-based gRPC client of one rank with a deadline on every call, over
// plaintext or mutual-TLS credentials (worker-connect.ts chooses).
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS, loadWorkerService } from '../../worker-protocol/src/proto-loader';
import type { ProtoStepResponse } from '../../worker-protocol/src/step-codec';
import { StepStream } from './step-stream';
import { WorkerRpcError } from './worker-rpc-error';

export class WorkerClient {
  private readonly client: grpc.Client & Record<string, unknown>;
  private readonly steps: StepStream;

  constructor(
    readonly rank: number,
    readonly address: string,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
    channelOptions: grpc.ChannelOptions = {},
  ) {
    const { Client } = loadWorkerService();
    this.client = new Client(address, credentials, { ...CHANNEL_OPTIONS, ...channelOptions }) as grpc.Client &
      Record<string, unknown>;
    // requests go out as bytes encoded once for all ranks (encodeStepRequest)
    const method = loadWorkerService().service.StepStream;
    const openStream = (): grpc.ClientDuplexStream<Buffer, ProtoStepResponse> =>
      this.client.makeBidiStreamRequest(method.path, (bytes: Buffer) => bytes, method.responseDeserialize as (b: Buffer) => ProtoStepResponse);
    this.steps = new StepStream(openStream, rank, address);
  }

  /** One step over the rank's long-lived StepStream; `request` from encodeStepRequest. */
  step(request: Buffer, deadlineMs: number): Promise<ProtoStepResponse> {
    return this.steps.send(request, deadlineMs);
  }

  call<Res>(method: string, request: unknown, deadlineMs: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      const fn = this.client[method] as (
        req: unknown,
        options: grpc.CallOptions,
        cb: (err: grpc.ServiceError | null, res: Res) => void,
      ) => void;
      fn.call(this.client, request, { deadline: Date.now() + deadlineMs }, (err, res) => {
        if (!err) return resolve(res);
        const why =
          err.code === grpc.status.DEADLINE_EXCEEDED
            ? `did not answer ${method} within ${deadlineMs} ms`
            : err.code === grpc.status.UNAVAILABLE
              ? `is unreachable (${err.details})`
              : `failed ${method}: ${err.details || err.message}`;
        reject(new WorkerRpcError(this.rank, method, err.code, `worker rank ${this.rank} (${this.address}) ${why}`));
      });
    });
  }

  /** Resolves once the channel is connected (the channel keeps retrying); rejects after timeoutMs. */
  waitReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => {
        if (!err) return resolve();
        reject(new WorkerRpcError(this.rank, 'connect', grpc.status.UNAVAILABLE,
          `worker rank ${this.rank} (${this.address}) did not accept a connection within ${timeoutMs} ms (not started, wrong address, or a TLS mismatch?)`));
      });
    });
  }

  close(): void {
    this.steps.close();
    this.client.close();
  }
}
