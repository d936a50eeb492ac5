// Loads proto/worker.proto with @grpc/proto-loader (camelCase fields, numbers for 64-bit ints,
// enums as strings) and returns the Worker service definition and client constructor.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { findRepoRoot } from '../../native/src/addon';

export const PROTO_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: false,
  arrays: true,
  oneofs: true,
};

export interface WorkerServiceBundle {
  service: grpc.ServiceDefinition;
  Client: grpc.ServiceClientConstructor;
}

let cached: WorkerServiceBundle | undefined;

export function loadWorkerService(): WorkerServiceBundle {
  if (cached) return cached;
  const protoPath = join(findRepoRoot(), 'proto', 'worker.proto');
  const definition = protoLoader.loadSync(protoPath, PROTO_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    tpserve: { worker: { v1: { Worker: grpc.ServiceClientConstructor } } };
  };
  const Client = pkg.tpserve.worker.v1.Worker;
  cached = { service: Client.service, Client };
  return cached;
}

/** Options for large steps (logits of a long prompt) and fast failure detection. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 1 << 30,
  'grpc.max_send_message_length': 1 << 30,
};

/**
 * A StepRequest as the bytes gRPC would send: encoded once per step and written unchanged on
 * every rank's StepStream (one serialization per step, not one per rank).
 */
export function encodeStepRequest(request: unknown): Buffer {
  return loadWorkerService().service.StepStream.requestSerialize(request);
}
