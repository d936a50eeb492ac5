// The spawned worker of a local group (libs/worker-group/src/worker-process.ts); `tpserve
// worker` runs the same rank standalone. Options: worker-options.ts.
//   node dist/apps/worker/src/main.js --port 0 --device cpu [--host 127.0.0.1] [--exit-with-parent]
import { Command } from 'commander';
import { addWorkerOptions, toWorkerConfig, type WorkerOptionValues } from './worker-options';
import { runWorker } from './worker-server';

const args = addWorkerOptions(new Command().name('tpserve-worker')).parse(process.argv).opts<WorkerOptionValues>();
try {
  runWorker(toWorkerConfig(args));
} catch (err) {
  process.stderr.write(`tpserve-worker: ${(err as Error).message}\n`);
  process.exit(1);
}
