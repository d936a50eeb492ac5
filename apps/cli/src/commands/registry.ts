// The list of tpserve sub-commands.
import type { Command } from 'commander';
import { registerGenerate } from './generate.command';
import { registerLogits } from './logits.command';
import { registerMakeTinyModel } from './make-tiny-model.command';

export function registerCommands(program: Command): void {
  registerMakeTinyModel(program);
  registerLogits(program);
  registerGenerate(program);
}
