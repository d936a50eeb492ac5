// tpserve command line: one sub-command per file under commands/, each with --help.
import { Command } from 'commander';
import { registerCommands } from './commands/registry';

const program = new Command();
program.name('tpserve').description('Tensor-parallel LLM inference server (Seed-OSS, Llama-family)').showHelpAfterError();
registerCommands(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`tpserve: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
