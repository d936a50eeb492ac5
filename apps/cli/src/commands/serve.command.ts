// `tpserve serve`: the OpenAI-compatible server (apps/coordinator) over a worker group.
// Flags win over TPSERVE_* environment variables, which win over defaults (config/server-config.ts).
//   tpserve serve --model DIR --tp 2 --device cpu --host 127.0.0.1 --port 8000
import type { Command } from 'commander';
import { addServerOptions, toServerConfig, type ServerOptionValues } from '../../../coordinator/src/config/server-config';
import { serveForever } from '../../../coordinator/src/coordinator.bootstrap';

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve a model over the OpenAI API (chat/completions, completions, models, health, ready, metrics)');
  addServerOptions(cmd).action(async (values: ServerOptionValues) => {
    await serveForever(toServerConfig(values));
  });
}
