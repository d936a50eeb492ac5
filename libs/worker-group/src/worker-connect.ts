// Connecting to worker ranks by address (`tpserve serve --workers h1:p1,...`): plaintext only on
// loopback or with an explicit insecure flag, else mutual TLS; a connect timeout with fast
// reconnects while pods start; and the choice of the CPU communicator: shared memory when every
// rank reports the same host identity, Gloo over TCP when they differ (or as asked).
import * as grpc from '@grpc/grpc-js';
import type { CommBackend, Device } from '../../native/src/types';
import { hostOf, isLoopbackHost } from '../../worker-protocol/src/worker-address';
import { channelCredentials, type TlsFiles } from '../../worker-protocol/src/worker-tls';
import { WorkerClient } from './worker-client';

export interface RemoteWorkerOptions {
  /** Mutual TLS to the ranks (required off loopback unless insecure). */
  tls?: TlsFiles;
  /** The name the workers' certificate carries when it is not their address. */
  tlsServerName?: string;
  /** Allow plaintext gRPC to ranks that are not on loopback. */
  insecure?: boolean;
  /** How long to wait for every rank to accept a connection (default 120 s). */
  connectTimeoutMs?: number;
}

/** "auto": shm when all ranks share a host, gloo otherwise. */
export type CommChoice = CommBackend | 'auto';

// Reconnect quickly while pods start (gRPC's default backoff grows to 2 minutes).
const RECONNECT_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.min_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2000,
};

export function workerClients(addresses: string[], o: RemoteWorkerOptions): WorkerClient[] {
  const remote = addresses.filter((a) => !isLoopbackHost(hostOf(a)));
  if (remote.length > 0 && !o.tls && !o.insecure) {
    throw new Error(
      `worker rank(s) at ${remote.join(', ')} are not on loopback: give --worker-tls-cert, --worker-tls-key and --worker-tls-ca (mutual TLS), or --worker-insecure on a trusted network`,
    );
  }
  const credentials = o.tls ? channelCredentials(o.tls) : grpc.credentials.createInsecure();
  const options: grpc.ChannelOptions = { ...RECONNECT_OPTIONS };
  if (o.tlsServerName) options['grpc.ssl_target_name_override'] = o.tlsServerName;
  return addresses.map((a, rank) => new WorkerClient(rank, a, credentials, options));
}

/** Waits until every rank accepts a connection, all in parallel. */
export async function waitForWorkers(clients: WorkerClient[], timeoutMs: number): Promise<void> {
  await Promise.all(clients.map((c) => c.waitReady(timeoutMs)));
}

export interface CommPlan {
  backend: CommBackend;
  /** Gloo: where rank 0 runs the rendezvous store ('' for the worker's advertise host). */
  host: string;
}

/** Which CPU communicator the group uses, from the ranks' Info (host identity, advertise host). */
export async function planCpuComm(clients: WorkerClient[], choice: CommChoice, device: Device): Promise<CommPlan> {
  if (device === 'cuda' || choice === 'shm') return { backend: 'shm', host: '' };
  const infos = await Promise.all(clients.map((c) => c.call<{ hostId?: string; advertiseHost?: string }>('info', {}, 10_000)));
  const oneHost = infos.every((i) => i.hostId && i.hostId === infos[0].hostId);
  if (choice === 'auto' && oneHost) return { backend: 'shm', host: '' };
  return { backend: 'gloo', host: infos[0].advertiseHost ?? '' };
}
