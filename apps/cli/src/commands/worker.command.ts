// `tpserve worker`: one standalone rank (what a LeaderWorkerSet worker pod runs), driven by a
// coordinator started with `tpserve serve --workers h1:p1,h2:p2,...` (rank = place in that list).
//   tpserve worker --host 10.0.0.2 --port 50051 --device cpu --tls-cert c.pem --tls-key k.pem --tls-ca ca.pem
import type { Command } from 'commander';
import { addWorkerOptions, toWorkerConfig, type WorkerOptionValues } from '../../../worker/src/worker-options';
import { runWorker } from '../../../worker/src/worker-server';

export function registerWorker(program: Command): void {
  const cmd = program.command('worker').description('run one worker rank (gRPC) for a coordinator started with --workers');
  addWorkerOptions(cmd).action((values: WorkerOptionValues) => {
    runWorker(toWorkerConfig(values));
  });
}
