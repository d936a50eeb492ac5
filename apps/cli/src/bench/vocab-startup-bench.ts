// What structured outputs cost the coordinator's start (`node dist/apps/cli/src/bench/vocab-startup-bench.js --model DIR`):
// `before` is the old start, on the event loop: re-read and re-parse tokenizer.json, decode the
// byte strings and build the sorted index; `after` is what the event loop does now (the byte
// strings from the tokenizer the coordinator already loaded) and, apart, what the mask thread
// does (the sorted index). Repeated --repeats times; JSON on stdout (ms), with a check that both
// ways give the same byte strings and order.
import { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { vocabIndexOf } from '../../../coordinator/src/structured-output/structured-output.service';
import { VocabIndex } from '../../../../libs/structured-output/src/vocab-index';
import { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { parseIntOption } from '../options/parse';

function main(): void {
  const o = new Command()
    .requiredOption('--model <dir>', 'model directory (its tokenizer.json; e.g. a make-tiny-model --tokenizer of the Seed tokenizer)')
    .option('--repeats <n>', 'repetitions', parseIntOption('--repeats', 1, 100), 3)
    .parse()
    .opts<{ model: string; repeats: number }>();
  const tokenizer = Tokenizer.fromModelDir(o.model);
  const runs: Array<Record<string, number | boolean>> = [];
  for (let r = 0; r < o.repeats; r++) {
    let t = performance.now();
    const json = JSON.parse(fs.readFileSync(path.join(o.model, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    const before = VocabIndex.fromTokenizerJson(json, tokenizer.vocabSize);
    before.prepare();
    const beforeMs = performance.now() - t;
    t = performance.now();
    const after = vocabIndexOf(tokenizer, tokenizer.vocabSize);
    const afterLoopMs = performance.now() - t;
    t = performance.now();
    after.prepare();
    const afterThreadMs = performance.now() - t;
    const same = before.bytes.every((b, i) => (b === null) === (after.bytes[i] === null) && (b === null || Buffer.compare(b, after.bytes[i]!) === 0))
      && before.all.ids.every((id, k) => id === after.all.ids[k]);
    runs.push({ before_event_loop_ms: Math.round(beforeMs), after_event_loop_ms: Math.round(afterLoopMs), after_mask_thread_ms: Math.round(afterThreadMs), same_index: same });
  }
  process.stdout.write(JSON.stringify({ model: path.basename(o.model), vocab_size: tokenizer.vocabSize, runs }, null, 2) + '\n');
}

main();
