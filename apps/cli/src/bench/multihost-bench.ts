// Multi-host CPU benchmark: tp 2 over Gloo (TCP) between two network-namespace "hosts" (one
// `tpserve worker` in each, the coordinator in the root namespace) against tp 2 over shared
// memory on one host (two spawned workers). Decode at batch 1 and N: wall time per step and
// rank 0's time inside collectives per step. Needs root + iproute2 for the namespaces (made and
// removed here). Prints JSON on stdout; progress on stderr. The lead runs it on an idle machine:
//   node dist/apps/cli/src/bench/multihost-bench.js [--batch 16] [--decode-steps 16] [--rounds 3] [--model DIR]
import { Command } from 'commander';
import * as path from 'node:path';
import { findRepoRoot } from '../../../../libs/native/src/addon';
import { WorkerGroup } from '../../../../libs/worker-group/src/worker-group';
import { parseIntOption } from '../options/parse';
import { BENCH_MODEL_0P5B, ensureBenchModel } from './bench-model';
import { BatchRunner } from './batch-runner';
import { NetnsHosts } from './netns-hosts';

interface Options {
  batch: number;
  decodeSteps: number;
  rounds: number;
  model?: string;
}

const log = (line: string): void => void process.stderr.write(`[bench:multihost] ${line}\n`);
const round = (x: number): number => Math.round(x * 100) / 100;

/** Best-round step and collective ms at batch 1 and batch N. */
async function measure(name: string, group: WorkerGroup, o: Options): Promise<Record<string, unknown>> {
  const runner = new BatchRunner(group);
  await runner.warmup();
  const result: Record<string, { stepMs: number; collectiveMsPerStep: number; rounds: number[] }> = {};
  for (const batch of [1, o.batch]) {
    const steps: number[] = [];
    const collectives: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      await runner.timedPrefill(batch, 16);
      steps.push((await runner.timedDecode(o.decodeSteps)) / o.decodeSteps);
      collectives.push(runner.lastDecodeCollectiveMs / o.decodeSteps);
      await runner.finishAll();
    }
    const best = steps.indexOf(Math.min(...steps));
    result[`batch${batch}`] = { stepMs: round(steps[best]), collectiveMsPerStep: round(collectives[best]), rounds: steps.map(round) };
    log(`${name}: batch ${batch}: ${steps[best].toFixed(1)} ms per step, ${collectives[best].toFixed(2)} ms in collectives`);
  }
  return result;
}

async function main(): Promise<void> {
  const o = new Command()
    .name('multihost-bench')
    .option('--batch <n>', 'sequences of the larger decode batch', parseIntOption('--batch', 1, 256), 16)
    .option('--decode-steps <n>', 'timed decode steps per round', parseIntOption('--decode-steps', 1, 10_000), 16)
    .option('--rounds <n>', 'rounds per batch size (the best is reported)', parseIntOption('--rounds', 1, 100), 3)
    .option('--model <dir>', 'benchmark this checkpoint instead of the random 0.5B one')
    .parse(process.argv)
    .opts<Options>();
  const root = findRepoRoot();
  const modelDir = o.model ?? ensureBenchModel(path.join(root, '.tpserve', 'bench-model-0p5b'), BENCH_MODEL_0P5B, log);
  const numKvBlocks = o.batch * Math.ceil((16 + o.decodeSteps) / 16) + 8;
  const common = { modelDir, device: 'cpu' as const, numThreadsPerRank: 1, numKvBlocks };

  const made = NetnsHosts.create(2);
  if (typeof made === 'string') throw new Error(`cannot run the Gloo half: ${made}`);
  const report: Record<string, unknown> = { model: modelDir, batch: o.batch, decodeStepsPerRound: o.decodeSteps, rounds: o.rounds, threadsPerRank: 1 };
  try {
    log('tp 2 over shared memory (one host)');
    const shm = await WorkerGroup.start({ ...common, tp: 2, comm: 'shm' });
    try {
      report.shmOneHost = await measure('shm', shm, o);
    } finally {
      await shm.close();
    }
    log(`tp 2 over Gloo between ${made.describe()}`);
    const bin = path.join(root, 'bin', 'tpserve.js');
    const workers = [await made.startWorker(0, bin, ['--insecure'], { port: 50061 }), await made.startWorker(1, bin, ['--insecure'], { port: 50061 })];
    const gloo = await WorkerGroup.start({ ...common, addresses: workers.map((w) => w.address), comm: 'gloo', remote: { insecure: true } });
    try {
      report.glooTwoNamespaces = await measure('gloo', gloo, o);
    } finally {
      await gloo.close();
    }
  } finally {
    made.removeAll();
  }
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:multihost] error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
