// tpserve worker: one process per rank, serving proto/worker.proto over gRPC around the native
// engine. Prints one JSON line {"event":"listening","port":N,"pid":P} on stdout once bound, so a
// spawner can use --port 0. Exits when its parent dies (stdin closes with --exit-with-parent).
//   node dist/apps/worker/src/main.js --port 0 --device cpu [--host 127.0.0.1] [--exit-with-parent]
import * as grpc from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import { loadWorkerService, CHANNEL_OPTIONS } from '../../../libs/worker-protocol/src/proto-loader';
import type { Device } from '../../../libs/native/src/types';
import { WorkerHandlers } from './worker-handlers';

interface WorkerArgs {
  host: string;
  port: number;
  device: Device;
  exitWithParent?: boolean;
}

function main(): void {
  const args = new Command()
    .name('tpserve-worker')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port (0: any free port)', (v) => Number.parseInt(v, 10), 0)
    .addOption(new Option('--device <device>', 'backend').choices(['cpu', 'cuda']).default('cpu'))
    .option('--exit-with-parent', 'exit when stdin closes (the spawning process died)')
    .parse(process.argv)
    .opts<WorkerArgs>();

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
  handlers = new WorkerHandlers(args.device, shutdown, log);
  server.addService(loadWorkerService().service, handlers.implementation());
  server.bindAsync(`${args.host}:${args.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      log(`cannot bind ${args.host}:${args.port}: ${err.message}`);
      process.exit(1);
    }
    process.stdout.write(JSON.stringify({ event: 'listening', port, pid: process.pid }) + '\n');
  });
  if (args.exitWithParent) {
    process.stdin.on('end', shutdown);
    process.stdin.on('error', shutdown);
    process.stdin.resume();
  }
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main();
