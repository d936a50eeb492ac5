// `tpserve keys create --name NAME [--rpm N] [--tpm N]` prints a new API key once (only its
// sha256 is stored); `tpserve keys list [--json]` shows id, name, limits, created and last used
// (never the key); `tpserve keys revoke ID`. Each takes --redis-url / TPSERVE_REDIS_URL.
// Tests: test/e2e/control-plane.test.ts.
import type { Command } from 'commander';
import { newApiKey, type ApiKeyRecord } from '../../../../libs/store/src/api-key-record';
import { parseIntOption } from '../options/parse';
import { addRedisUrlOption, withStore, type StoreOptionValues } from './store-options';

const isoOrDash = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());
const limitText = (n: number): string => (n === 0 ? 'unlimited' : String(n));

function keyRow(k: ApiKeyRecord): string {
  return [k.id, k.name, limitText(k.rpm), limitText(k.tpm), isoOrDash(k.createdAtMs), isoOrDash(k.lastUsedAtMs)].join('\t');
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys of the servers sharing a Redis: create, list, revoke');
  addRedisUrlOption(
    keys.command('create')
      .description('create an API key and print it (once: only its hash is stored)')
      .requiredOption('--name <name>', 'who the key is for (shown by keys list and usage)')
      .option('--rpm <n>', 'requests per minute, 0 for unlimited', parseIntOption('--rpm', 0, 1e9), 0)
      .option('--tpm <n>', 'tokens per minute (prompt + completion), 0 for unlimited', parseIntOption('--tpm', 0, 1e12), 0)
      .option('--json', 'print {"id","key","name","rpm","tpm"} as JSON'),
  ).action(async (opts: StoreOptionValues & { name: string; rpm: number; tpm: number; json?: boolean }) => {
    if (opts.name.trim() === '') throw new Error('--name must not be empty');
    const { key, record } = newApiKey(opts.name, { rpm: opts.rpm, tpm: opts.tpm });
    await withStore(opts, (store) => store.createApiKey(record));
    if (opts.json) process.stdout.write(JSON.stringify({ id: record.id, key, name: record.name, rpm: record.rpm, tpm: record.tpm }) + '\n');
    else process.stdout.write(`${key}\n`);
    process.stderr.write(`created ${record.id} '${record.name}' (rpm ${limitText(record.rpm)}, tpm ${limitText(record.tpm)}); the key is shown only this once\n`);
  });
  addRedisUrlOption(keys.command('list').description('list the keys (never the keys themselves)').option('--json', 'print JSON')).action(
    async (opts: StoreOptionValues & { json?: boolean }) => {
      const records = await withStore(opts, (store) => store.listApiKeys());
      if (opts.json) {
        process.stdout.write(JSON.stringify(records.map(({ hash: _hash, ...r }) => r)) + '\n');
        return;
      }
      process.stdout.write(['id', 'name', 'rpm', 'tpm', 'created', 'last_used'].join('\t') + '\n');
      for (const r of records) process.stdout.write(keyRow(r) + '\n');
    },
  );
  addRedisUrlOption(keys.command('revoke').description('revoke a key by its id').argument('<id>', 'the key id (keys list)')).action(
    async (id: string, opts: StoreOptionValues) => {
      if (!(await withStore(opts, (store) => store.revokeApiKey(id)))) throw new Error(`no API key has the id '${id}'`);
      process.stderr.write(`revoked ${id}\n`);
    },
  );
}
