// `tpserve start` (what `npm start` runs): makes the tiny model in <repo>/.tpserve/tiny-model if
// it is absent, then serves it on 127.0.0.1:8000 with 2 CPU worker ranks. Flags and TPSERVE_*
// variables of `serve` still apply (e.g. --port).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { findRepoRoot } from '../../../../libs/native/src/addon';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { resolveServerConfig, type ServerFlags } from '../../../coordinator/src/config/server-config';
import { serveForever } from '../../../coordinator/src/coordinator.bootstrap';
import { addServeOptions } from './serve.command';

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
  addServeOptions(cmd).action(async (flags: ServerFlags) => {
    const log = (line: string): void => void process.stderr.write(`tpserve: ${line}\n`);
    const dir = tinyModelDir();
    ensureTinyModel(dir, log);
    const env = { TPSERVE_TP: '2', TPSERVE_DEVICE: 'cpu', TPSERVE_HOST: '127.0.0.1', TPSERVE_PORT: '8000', TPSERVE_SERVED_MODEL_NAME: TINY_MODEL_NAME, ...process.env };
    await serveForever(resolveServerConfig({ ...flags, model: dir }, env));
  });
}
