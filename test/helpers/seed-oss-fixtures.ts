// The Seed-OSS fixtures in the repository (fixtures/seed-oss, see its README for source and
// licence): every spec reads them through here, so a clone alone runs the tests. A missing file
// throws (a test whose cases are missing fails; it never runs zero cases).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

export const SEED_OSS_FIXTURES_DIR = path.resolve(__dirname, '..', '..', 'fixtures', 'seed-oss');

export function seedOssFixturePath(name: string): string {
  return path.join(SEED_OSS_FIXTURES_DIR, name);
}

export function readSeedOssText(name: string): string {
  return fs.readFileSync(seedOssFixturePath(name), 'utf8');
}

export function readSeedOssJson<T = any>(name: string): T {
  return JSON.parse(readSeedOssText(name)) as T;
}

/** The real tokenizer.json, decompressed. */
export function seedOssTokenizerJson(): Buffer {
  return zlib.brotliDecompressSync(fs.readFileSync(seedOssFixturePath('tokenizer.Seed-OSS-36B-Base.json.br')));
}
