// ServerConfig: flags over TPSERVE_* variables over defaults, and clear errors.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveServerConfig } from './server-config';

describe('resolveServerConfig', () => {
  it('uses defaults', () => {
    const c = resolveServerConfig({ model: '/models/Seed-OSS-36B-Instruct' }, {});
    expect(c).toMatchObject({ modelDir: '/models/Seed-OSS-36B-Instruct', servedModelName: 'Seed-OSS-36B-Instruct', tp: 1, device: 'cpu', host: '127.0.0.1', port: 8000, maxModelLen: 0, requestTimeoutMs: 600_000 });
    expect(c.redisUrl).toBeUndefined();
  });

  it('reads the environment, and flags win over it', () => {
    const env = { TPSERVE_MODEL: 'rel/dir', TPSERVE_TP: '4', TPSERVE_DEVICE: 'cuda', TPSERVE_PORT: '9000', TPSERVE_MAX_NUM_SEQS: '8', TPSERVE_SERVED_MODEL_NAME: 'seed', TPSERVE_REDIS_URL: 'redis://r:6379', TPSERVE_KV_CACHE_BYTES: '1073741824' };
    const c = resolveServerConfig({ port: '9001' }, env);
    expect(c).toMatchObject({ modelDir: path.resolve('rel/dir'), tp: 4, device: 'cuda', port: 9001, maxNumSeqs: 8, servedModelName: 'seed', redisUrl: 'redis://r:6379', kvCacheBytes: 1 << 30 });
  });

  it.each([
    [{}, /--model DIR \(or TPSERVE_MODEL\) is required/],
    [{ model: 'm', tp: '0' }, /--tp \(or TPSERVE_TP\) must be an integer in \[1, 64\], got '0'/],
    [{ model: 'm', port: 'http' }, /--port .* got 'http'/],
    [{ model: 'm', device: 'tpu' }, /--device .* must be cpu or cuda/],
    [{ model: 'm', maxNumBatchedTokens: '1.5' }, /--max-num-batched-tokens/],
  ])('rejects %j', (flags, message) => {
    expect(() => resolveServerConfig(flags, {})).toThrow(message);
  });
});
