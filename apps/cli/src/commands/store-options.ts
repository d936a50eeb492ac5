// The Redis connection the `keys` and `usage` commands share: --redis-url or TPSERVE_REDIS_URL
// (the same Redis the servers use), connected or a clear error naming the URL.
import { type Command, Option } from 'commander';
import { redactRedisUrl } from '../../../../libs/store/src/redis-keys';
import { RedisStore } from '../../../../libs/store/src/redis-store';

export interface StoreOptionValues {
  redisUrl?: string;
}

export function addRedisUrlOption(cmd: Command): Command {
  return cmd.addOption(new Option('--redis-url <url>', 'the Redis the servers share (keys, limits, usage)').env('TPSERVE_REDIS_URL'));
}

/** Runs `work` on a connected RedisStore, closing it afterwards. */
export async function withStore<T>(values: StoreOptionValues, work: (store: RedisStore) => Promise<T>): Promise<T> {
  if (!values.redisUrl) throw new Error('--redis-url URL (or TPSERVE_REDIS_URL) is required: keys and usage live in the Redis the servers share');
  const store = new RedisStore(values.redisUrl);
  try {
    if (!(await store.waitUntilReady(5000))) throw new Error(`cannot reach Redis at ${redactRedisUrl(values.redisUrl)}`);
    return await work(store);
  } finally {
    await store.close();
  }
}
