// Does a structured-output cache miss stall the batch? (`node dist/apps/cli/src/bench/mask-stall-bench.js`)
// In one process: the real engine loop and worker group over a model (use one made with the
// Seed-OSS tokenizer), N plain streams decoding, and constrained requests with fresh schemas
// (new property names, pattern and date strings: every state is a miss) arriving every --every-ms. Run once per mode,
// side by side: `thread` (misses on the mask thread, the sequence sits out: the server's way)
// and `inline` (misses walked on the event loop inside the step build, the old way), each on
// fresh workers. Prints
// JSON: per mode, the plain streams' inter-token gaps (ms: median, p99, max), the event-loop
// delay (perf_hooks.monitorEventLoopDelay: p50, p99, max ms) and how many constrained replies
// stopped. Progress on stderr.
//   node dist/apps/cli/src/bench/mask-stall-bench.js --model DIR [--plain 8] [--constrained 12] [--every-ms 150]
import { Command } from 'commander';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as path from 'node:path';
import { toServerConfig } from '../../../coordinator/src/config/server-config';
import { EngineLoopService } from '../../../coordinator/src/engine/engine-loop.service';
import type { FinishEvent } from '../../../coordinator/src/engine/engine-request';
import { ModelRuntime } from '../../../coordinator/src/engine/model-runtime';
import { MetricsService } from '../../../coordinator/src/metrics/metrics.service';
import { vocabIndexOf } from '../../../coordinator/src/structured-output/structured-output.service';
import { findRepoRoot } from '../../../../libs/native/src/addon';
import type { CompiledGrammar } from '../../../../libs/structured-output/src/compiled-grammar';
import { GrammarCompiler } from '../../../../libs/structured-output/src/grammar-compiler';
import { GrammarMatcher } from '../../../../libs/structured-output/src/grammar-matcher';
import { SYNC_MASK_SOURCE, type MaskSource } from '../../../../libs/structured-output/src/mask-source';
import { MaskThread } from '../../../../libs/structured-output/src/mask-thread-client';
import { TokenConstraint } from '../../../../libs/structured-output/src/token-constraint';
import { parseIntOption } from '../options/parse';

const log = (line: string): void => void process.stderr.write(`[bench:mask-stall] ${line}\n`);
const round = (x: number): number => Math.round(x * 1000) / 1000;

function summary(ms: number[]): { n: number; median_ms: number; p99_ms: number; max_ms: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))] ?? 0;
  return { n: s.length, median_ms: round(at(0.5)), p99_ms: round(at(0.99)), max_ms: round(s[s.length - 1] ?? 0) };
}

/** A schema no earlier request used (its property names and enum values are new). */
function freshSchema(i: number): Record<string, unknown> {
  const name = (k: number): string => `field_${i}_${k}_${(i * 7919 + k * 104729).toString(36)}`;
  return {
    type: 'object',
    properties: {
      [name(0)]: { type: 'string', maxLength: 12 }, [name(1)]: { type: 'integer', minimum: 0, maximum: 999 }, [name(2)]: { enum: [name(3), name(4)] },
      // pattern and format strings: each of their states walks the whole vocabulary (the costly misses)
      [name(5)]: { type: 'string', pattern: '^[a-z]{2,8}-[0-9]{2,4}$' }, [name(6)]: { type: 'string', format: 'date' },
    },
    required: [name(0), name(1), name(2), name(5), name(6)],
    additionalProperties: false,
  };
}

async function runMode(mode: 'thread' | 'inline', runtime: ModelRuntime, o: { plain: number; constrained: number; everyMs: number; tokens: number }, round0: number) {
  const grammars: CompiledGrammar[] = [];
  const engine = new EngineLoopService(runtime, new MetricsService());
  const vocab = vocabIndexOf(runtime.tokenizer, runtime.info.vocabSize);
  const compiler = new GrammarCompiler(vocab, runtime.eosTokenIds);
  let source: MaskSource = SYNC_MASK_SOURCE;
  let thread: MaskThread | undefined;
  if (mode === 'thread') {
    thread = new MaskThread(vocab, runtime.eosTokenIds, path.join(findRepoRoot(), 'dist', 'libs', 'structured-output', 'src', 'mask-thread.js'), (m) => log(`mask thread: ${m}`));
    await thread.ready;
    source = thread;
  } else {
    vocab.prepare(); // not part of the measured window
  }
  const gaps: number[] = [];
  const submit = (prompt: number[], maxTokens: number, constraint?: TokenConstraint, ignoreEos = false): Promise<FinishEvent> => new Promise((resolve) => {
    let last = 0;
    engine.submit({
      promptTokens: prompt, params: { temperature: 1, seed: 5 }, maxTokens, ignoreEos, constraint,
      listener: { onToken: () => { const now = performance.now(); if (constraint === undefined && last > 0) gaps.push(now - last); last = now; }, onFinish: resolve },
    });
  });
  const plain = Array.from({ length: o.plain }, (_, i) => submit([10 + i, 20 + i, 30 + i], o.tokens, undefined, true));
  await new Promise((r) => setTimeout(r, 200)); // the plain streams are decoding
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const constrained: Array<Promise<FinishEvent>> = [];
  for (let i = 0; i < o.constrained; i++) {
    const grammar = compiler.compile({ kind: 'json_schema', schema: freshSchema(round0 + i) });
    grammars.push(grammar);
    constrained.push(submit([40 + i, 41], 96, new TokenConstraint(new GrammarMatcher(grammar), null, false, source)));
    await new Promise((r) => setTimeout(r, o.everyMs));
  }
  const ends = await Promise.all(constrained);
  delay.disable();
  await Promise.all(plain);
  await engine.onModuleDestroy();
  await thread?.close();
  const ns = (x: number): number => round(x / 1e6);
  return { plain_token_gaps: summary(gaps), event_loop_delay_ms: { p50: ns(delay.percentile(50)), p99: ns(delay.percentile(99)), max: ns(delay.max) }, constrained_stopped: ends.filter((e) => e.reason === 'stop').length, masks_walked_on_loop: grammars.reduce((n, g) => n + g.numMaskMisses, 0), mask_thread_jobs: thread?.stats.numJobs ?? 0, mask_thread_compute: thread ? summary(thread.stats.computeMs) : undefined };
}

async function main(): Promise<void> {
  const o = new Command()
    .requiredOption('--model <dir>', 'model directory (e.g. make-tiny-model --tokenizer fixtures/seed-oss/tokenizer.Seed-OSS-36B-Base.json.br)')
    .option('--plain <n>', 'plain streams', parseIntOption('--plain', 1, 256), 8)
    .option('--constrained <n>', 'constrained requests with fresh schemas', parseIntOption('--constrained', 1, 1000), 12)
    .option('--every-ms <n>', 'one constrained request every n ms', parseIntOption('--every-ms', 1, 60_000), 150)
    .option('--tokens <n>', 'tokens per plain stream', parseIntOption('--tokens', 1, 100_000), 256)
    .option('--threads <n>', 'engine threads', parseIntOption('--threads', 0, 1024), 1)
    .parse()
    .opts<{ model: string; plain: number; constrained: number; everyMs: number; tokens: number; threads: number }>();
  const config = toServerConfig({ model: o.model, tp: 1, threadsPerRank: o.threads, maxNumSeqs: 64 });
  const result: Record<string, unknown> = { model: path.basename(o.model), plain: o.plain, constrained: o.constrained, every_ms: o.everyMs };
  let schemaBase = 0;
  for (const mode of ['thread', 'inline'] as const) {
    log(`${mode}...`);
    const runtime = await ModelRuntime.load(config, () => undefined); // fresh workers: request ids restart per engine
    result.vocab_size = runtime.info.vocabSize;
    result[mode] = await runMode(mode, runtime, o, (schemaBase += 1000));
    await runtime.close();
    log(`${mode}: ${JSON.stringify(result[mode])}`);
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

void main();
