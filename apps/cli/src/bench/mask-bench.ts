// Structured-output mask benchmark (`npm run bench:mask`): the real Seed-OSS tokenizer
// (fixtures/seed-oss, 155K ids) indexed once, then for each schema some random walks where every
// step takes the mask of the current state (cache included, as the server does) and one allowed
// token. Prints JSON on stdout: the index build time and the mask time per step (median, p99,
// max) overall and on cache misses, with the cache hit rate. Progress on stderr.
//   node dist/apps/cli/src/bench/mask-bench.js [--walks 8] [--steps 200] [--tokenizer FILE]
import { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { findRepoRoot } from '../../../../libs/native/src/addon';
import { GrammarCompiler, type GrammarRequest } from '../../../../libs/structured-output/src/grammar-compiler';
import { GrammarMatcher } from '../../../../libs/structured-output/src/grammar-matcher';
import { VocabIndex } from '../../../../libs/structured-output/src/vocab-index';
import { parseIntOption } from '../options/parse';

const log = (line: string): void => void process.stderr.write(`[bench:mask] ${line}\n`);
const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

const REQUESTS: Array<[string, GrammarRequest]> = [
  ['json_object', { kind: 'json_object' }],
  ['person', { kind: 'json_schema', schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0, maximum: 150 }, email: { type: 'string', maxLength: 40 }, tags: { type: 'array', items: { type: 'string' }, maxItems: 4 } }, required: ['name', 'age'], additionalProperties: false } }],
  ['nested', { kind: 'json_schema', schema: { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/$defs/item' }, minItems: 1, maxItems: 3 }, status: { enum: ['ok', 'error'] } }, required: ['items', 'status'], $defs: { item: { type: 'object', properties: { id: { type: 'string', format: 'uuid' }, price: { type: 'number', minimum: 0 }, when: { type: 'string', format: 'date' } }, required: ['id', 'price', 'when'] } } } }],
  ['tool_call', { kind: 'tool_call', tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' }, days: { type: 'integer', minimum: 1, maximum: 14 }, unit: { enum: ['celsius', 'fahrenheit'] } }, required: ['location'] } }] }],
];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const x = (sorted.length - 1) * p;
  const lo = Math.floor(x), hi = Math.ceil(x);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}

function summary(ms: number[]): { n: number; median_ms: number; p99_ms: number; max_ms: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, median_ms: round(percentile(s, 0.5)), p99_ms: round(percentile(s, 0.99)), max_ms: round(s[s.length - 1] ?? 0) };
}

function main(): void {
  const o = new Command()
    .option('--walks <n>', 'random walks per schema', parseIntOption('--walks', 1, 10_000), 8)
    .option('--steps <n>', 'most tokens per walk', parseIntOption('--steps', 1, 100_000), 200)
    .option('--tokenizer <file>', 'tokenizer.json or .json.br', path.join(findRepoRoot(), 'fixtures', 'seed-oss', 'tokenizer.Seed-OSS-36B-Base.json.br'))
    .parse()
    .opts<{ walks: number; steps: number; tokenizer: string }>();
  const raw = fs.readFileSync(o.tokenizer);
  const json = JSON.parse((o.tokenizer.endsWith('.br') ? zlib.brotliDecompressSync(raw) : raw).toString('utf8')) as Record<string, unknown>;
  let started = performance.now();
  const vocab = VocabIndex.fromTokenizerJson(json);
  vocab.prepare(); // the sorted parts (the server builds them on its mask thread)
  const indexMs = performance.now() - started;
  log(`indexed ${vocab.vocabSize} ids in ${Math.round(indexMs)} ms`);
  const eos = vocab.addedTokens.get('<seed:eos>') ?? 2;
  const compiler = new GrammarCompiler(vocab, [eos]);
  let seed = 1;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  const all: number[] = [], misses: number[] = [];
  const perSchema: Record<string, unknown> = {};
  for (const [name, request] of REQUESTS) {
    started = performance.now();
    const grammar = compiler.compile(request);
    const compileMs = performance.now() - started;
    const times: number[] = [];
    for (let w = 0; w < o.walks; w++) {
      const matcher = new GrammarMatcher(grammar);
      for (let step = 0; step < o.steps && !matcher.isEnded; step++) {
        const missesBefore = grammar.numMaskMisses;
        const t0 = performance.now();
        const mask = matcher.mask();
        const dt = performance.now() - t0;
        times.push(dt);
        if (grammar.numMaskMisses > missesBefore) misses.push(dt);
        const ids = mask.ids();
        if (ids.length === 0) throw new Error(`${name}: empty mask`);
        // a model-like walk: eos soon once allowed, otherwise any allowed token
        const id = ids.includes(eos) && rand() < 0.5 ? eos : ids[Math.floor(rand() * ids.length)];
        if (!matcher.acceptToken(id)) throw new Error(`${name}: the matcher refused an allowed token`);
      }
    }
    all.push(...times);
    perSchema[name] = { compile_ms: round(compileMs), ...summary(times), hit_rate: round(grammar.numMaskHits / Math.max(1, grammar.numMaskHits + grammar.numMaskMisses)) };
    log(`${name}: ${JSON.stringify(perSchema[name])}`);
  }
  process.stdout.write(JSON.stringify({ tokenizer: path.basename(o.tokenizer), vocab_size: vocab.vocabSize, index_ms: round(indexMs, 1), per_step: summary(all), cache_misses: summary(misses), schemas: perSchema }, null, 2) + '\n');
}

main();
