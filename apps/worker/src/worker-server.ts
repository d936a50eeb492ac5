// Runs one worker rank: the gRPC server of proto/worker.proto around the native engine, over
// mutual TLS when certificates are given (else plaintext, which toWorkerConfig allows only on
// loopback or with --insecure). Prints one JSON line {"event":"listening","port":N,"pid":P} on
// stdout once bound (so a spawner can use --port 0); exits on Shutdown, SIGTERM/SIGINT, and
// with --exit-with-parent when stdin closes.
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS, loadWorkerService } from '../../../libs/worker-protocol/src/proto-loader';
import { serverCredentials } from '../../../libs/worker-protocol/src/worker-tls';
import { hostIdentity } from './host-identity';
import { WorkerHandlers } from './worker-handlers';
import type { WorkerConfig } from './worker-options';

export function runWorker(config: WorkerConfig): void {
  const log = (message: string): void => {
    process.stderr.write(`[worker ${process.pid}] ${message}\n`);
  };
  const server = new grpc.Server(CHANNEL_OPTIONS);
  let handlers: WorkerHandlers;
  const shutdown = (): void => {
    if (handlers.isBusy) {
      // exit() would wait for the step or load running on a libuv thread (libuv joins its threads
      // at exit), which can take minutes: a worker told to go, or orphaned, must go now
      log('exiting during a step or load');
      process.kill(process.pid, 'SIGKILL');
    }
    try {
      handlers.dispose();
    } finally {
      server.forceShutdown();
      process.exit(0);
    }
  };
  handlers = new WorkerHandlers(
    { device: config.device, gpu: config.gpu, advertiseHost: config.advertiseHost, hostId: hostIdentity() },
    shutdown,
    log,
  );
  server.addService(loadWorkerService().service, handlers.implementation());
  const credentials = config.tls ? serverCredentials(config.tls) : grpc.ServerCredentials.createInsecure();
  const bindHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  server.bindAsync(`${bindHost}:${config.port}`, credentials, (err, port) => {
    if (err) {
      log(`cannot bind ${config.host}:${config.port}: ${err.message}`);
      process.exit(1);
    }
    if (!config.exitWithParent) log(`listening on ${config.host}:${port} (${config.device}, ${config.tls ? 'mutual TLS' : 'plaintext'})`);
    process.stdout.write(JSON.stringify({ event: 'listening', port, pid: process.pid }) + '\n');
  });
  if (config.exitWithParent) {
    process.stdin.on('end', shutdown);
    process.stdin.on('error', shutdown);
    process.stdin.resume();
  }
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
