// The Store a process uses: RedisStore when a Redis URL is given (replicas share it), else a
// MemoryStore (one replica). The coordinator and the `tpserve keys` / `usage` commands use this.
import { MemoryStore } from './memory-store';
import { RedisStore } from './redis-store';
import type { Store } from './store';

export function openStore(redisUrl: string | undefined, log?: (line: string) => void): Store {
  return redisUrl ? new RedisStore(redisUrl, { log }) : new MemoryStore();
}
