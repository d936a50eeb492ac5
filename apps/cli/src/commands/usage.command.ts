// `tpserve usage [--key ID] [--since ISO] [--json]`: the usage records of the servers sharing a
// Redis, per key, model and hour (requests; prompt, completion, reasoning and cached prompt
// tokens). Tests: test/e2e/control-plane.test.ts.
import type { Command } from 'commander';
import { USAGE_FIELDS, type UsageRecord } from '../../../../libs/store/src/usage-record';
import { addRedisUrlOption, withStore, type StoreOptionValues } from './store-options';

function parseSince(value: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw new Error(`--since must be an ISO date or time (e.g. 2026-01-31 or 2026-01-31T12:00Z), got '${value}'`);
  return ms;
}

function toJson(r: UsageRecord): Record<string, unknown> {
  return {
    key_id: r.keyId, model: r.model, hour: new Date(r.hourStartMs).toISOString(), requests: r.numRequests,
    prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, reasoning_tokens: r.reasoningTokens, cached_prompt_tokens: r.cachedPromptTokens,
  };
}

export function registerUsage(program: Command): void {
  addRedisUrlOption(
    program.command('usage')
      .description('usage per API key, model and hour')
      .option('--key <id>', 'only this key id')
      .option('--since <iso>', 'only hours from this time on', parseSince)
      .option('--json', 'print a JSON array'),
  ).action(async (opts: StoreOptionValues & { key?: string; since?: number; json?: boolean }) => {
    const records = await withStore(opts, (store) => store.listUsage({ keyId: opts.key, sinceMs: opts.since }));
    if (opts.json) {
      process.stdout.write(JSON.stringify(records.map(toJson)) + '\n');
      return;
    }
    process.stdout.write(['hour', 'key_id', 'model', ...USAGE_FIELDS].join('\t') + '\n');
    for (const r of records) process.stdout.write([new Date(r.hourStartMs).toISOString(), r.keyId, r.model, ...USAGE_FIELDS.map((f) => r[f])].join('\t') + '\n');
  });
}
