// `tpserve start` (what `npm start` runs): makes the tiny model in <repo>/.tpserve/tiny-model if
// it is absent, then serves it on 127.0.0.1:8000 with 2 CPU worker ranks. Flags and TPSERVE_*
// variables of `serve` still apply (e.g. --port).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { findRepoRoot } from '../../../../libs/native/src/addon';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { addServerOptions, toServerConfig, type ServerOptionValues } from '../../../coordinator/src/config/server-config';
import { serveForever } from '../../../coordinator/src/coordinator.bootstrap';

/** The model id `npm start` serves (the README's examples use it). */
export const TINY_MODEL_NAME = 'tiny-seed-oss';

export function tinyModelDir(): string {
  return path.join(findRepoRoot(), '.tpserve', 'tiny-model');
}

export function ensureTinyModel(dir: string, log: (line: string) => void): void {
  if (fs.existsSync(path.join(dir, 'config.json')) && fs.existsSync(path.join(dir, 'tokenizer.json'))) return;
  log(`making the tiny model in ${dir}`);
  makeTinyModel({ outDir: dir }, (line) => log(`make-tiny-model: ${line}`));
}

export function registerStart(program: Command): void {
  const cmd = program
    .command('start')
    .description('make the tiny model if absent and serve it on 127.0.0.1:8000 with 2 CPU worker ranks');
  addServerOptions(cmd, { tp: 2, servedModelName: TINY_MODEL_NAME }, ['model']).action(async (values: ServerOptionValues) => {
    const log = (line: string): void => void process.stderr.write(`tpserve: ${line}\n`);
    const dir = tinyModelDir();
    ensureTinyModel(dir, log);
    await serveForever(toServerConfig({ ...values, model: dir }));
  });
}
