// The list of tpserve sub-commands.
import type { Command } from 'commander';
import { registerGenerate } from './generate.command';
import { registerLogits } from './logits.command';
import { registerMakeTinyModel } from './make-tiny-model.command';
import { registerChatTemplate } from './chat-template.command';
import { registerParse } from './parse.command';
import { registerServe } from './serve.command';
import { registerStart } from './start.command';
import { registerBench } from './bench.command';
import { registerWorker } from './worker.command';
import { registerKeys } from './keys.command';
import { registerUsage } from './usage.command';

export function registerCommands(program: Command): void {
  registerMakeTinyModel(program);
  registerLogits(program);
  registerGenerate(program);
  registerServe(program);
  registerStart(program);
  registerWorker(program);
  registerChatTemplate(program);
  registerParse(program);
  registerBench(program);
  registerKeys(program);
  registerUsage(program);
}
