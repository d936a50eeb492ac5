// `tpserve logits`: prints the logits of the last position (or of every position with --all)
// for a token sequence, as JSON on stdout. Needs only config.json and the safetensors.
import type { Command } from 'commander';
import { SingleSequenceDriver } from '../../../../libs/native/src/single-sequence-driver';
import { parseTokenList } from '../options/parse';
import { openExecutor, addEngineAndWorkerOptions, type EngineCliOptions } from './engine-options';

interface LogitsOptions extends EngineCliOptions {
  tokens: number[];
  all?: boolean;
}

export function registerLogits(program: Command): void {
  const cmd = program
    .command('logits')
    .description('print the logits of the last position (or every position with --all) as JSON')
    .requiredOption('--tokens <ids>', 'comma-separated token ids, e.g. 5,17,300', parseTokenList)
    .option('--all', 'print a list of logits per position');
  addEngineAndWorkerOptions(cmd);
  cmd.action(async (opts: LogitsOptions) => {
    const executor = await openExecutor(opts);
    try {
      const vocab = executor.info().vocabSize;
      const bad = opts.tokens.find((t) => t >= vocab);
      if (bad !== undefined) throw new Error(`--tokens: id ${bad} is outside the model's vocabulary [0, ${vocab})`);
      const driver = new SingleSequenceDriver(executor);
      const { logits } = await driver.prefill(opts.tokens, { temperature: 0 }, { sample: false, logits: opts.all ? 'all' : 'last' });
      const rows = logits.map((row) => Array.from(row));
      process.stdout.write(JSON.stringify(opts.all ? rows : rows[rows.length - 1]) + '\n');
    } finally {
      await executor.close();
    }
  });
}
