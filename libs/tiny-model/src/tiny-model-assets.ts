// Finds files shipped under libs/tiny-model/assets at run time, from the TypeScript sources
// (libs/tiny-model/src) and from the build (dist/libs/tiny-model/src) alike, by walking up from
// this file to the directory that holds libs/tiny-model/assets. Reads nothing outside the repository.

import * as fs from 'node:fs';
import * as path from 'node:path';

const ASSETS_RELATIVE = path.join('libs', 'tiny-model', 'assets');

export function tinyModelAssetsDir(startDir: string = __dirname): string {
  let dir = path.resolve(startDir);
  for (;;) {
    const candidate = path.join(dir, ASSETS_RELATIVE);
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`make-tiny-model: cannot find ${ASSETS_RELATIVE} above ${startDir}`);
    dir = parent;
  }
}

/** The official Seed-OSS chat template (a verbatim copy of the model's chat_template.jinja). */
export function readSeedOssChatTemplate(): string {
  return fs.readFileSync(path.join(tinyModelAssetsDir(), 'chat_template.jinja'), 'utf8');
}
