// ServerConfig: flags over TPSERVE_* variables over defaults (commander's layering), and clear
// errors naming the flag or the variable.
import * as path from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addServerOptions, toServerConfig, type ServerOptionValues } from './server-config';

function parse(argv: string[], env: Record<string, string> = {}, defaults = {}): ReturnType<typeof toServerConfig> {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  let values: ServerOptionValues = {};
  const cmd = addServerOptions(new Command('serve'), defaults)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    .action((v: ServerOptionValues) => void (values = v));
  cmd.parse(argv, { from: 'user' });
  return toServerConfig(values);
}

afterEach(() => vi.unstubAllEnvs());

describe('server options', () => {
  it('uses defaults', () => {
    const c = parse(['--model', '/models/Seed-OSS-36B-Instruct']);
    expect(c).toMatchObject({ modelDir: '/models/Seed-OSS-36B-Instruct', servedModelName: 'Seed-OSS-36B-Instruct', tp: 1, device: 'cpu', host: '127.0.0.1', port: 8000, maxModelLen: 0, requestTimeoutMs: 600_000, maxWaiting: 1024 });
    expect(c.redisUrl).toBeUndefined();
    expect(c).toMatchObject({ stepTimeoutMs: 120_000, restartBudget: { maxRestarts: 5, windowMs: 600_000 }, drainTimeoutMs: 90_000 });
  });

  it('parses the supervision and drain options', () => {
    const c = parse(['--model', 'm', '--step-timeout-ms', '3000', '--restart-budget', '2/60', '--drain-timeout-ms', '0']);
    expect(c).toMatchObject({ stepTimeoutMs: 3000, restartBudget: { maxRestarts: 2, windowMs: 60_000 }, drainTimeoutMs: 0 });
    expect(parse(['--model', 'm'], { TPSERVE_RESTART_BUDGET: '0' }).restartBudget.maxRestarts).toBe(0);
  });

  it('reads the environment, and flags win over it', () => {
    const env = { TPSERVE_MODEL: 'rel/dir', TPSERVE_TP: '4', TPSERVE_DEVICE: 'cuda', TPSERVE_PORT: '9000', TPSERVE_MAX_NUM_SEQS: '8', TPSERVE_SERVED_MODEL_NAME: 'seed', TPSERVE_REDIS_URL: 'redis://r:6379', TPSERVE_KV_CACHE_BYTES: '1073741824' };
    const c = parse(['--port', '9001'], env);
    expect(c).toMatchObject({ modelDir: path.resolve('rel/dir'), tp: 4, device: 'cuda', port: 9001, maxNumSeqs: 8, servedModelName: 'seed', redisUrl: 'redis://r:6379', kvCacheBytes: 1 << 30 });
  });

  it('takes other defaults (tpserve start) that the environment and flags still override', () => {
    expect(parse(['--model', 'm'], {}, { tp: 2 }).tp).toBe(2);
    expect(parse(['--model', 'm'], { TPSERVE_TP: '3' }, { tp: 2 }).tp).toBe(3);
    expect(parse(['--model', 'm', '--tp', '1'], { TPSERVE_TP: '3' }, { tp: 2 }).tp).toBe(1);
  });

  it.each<[string[], Record<string, string>, RegExp]>([
    [[], {}, /--model DIR \(or TPSERVE_MODEL\) is required/],
    [['--model', 'm', '--tp', '0'], {}, /option '--tp <n>' argument '0' is invalid\. must be an integer in \[1, 64\]/],
    [['--model', 'm'], { TPSERVE_TP: '65' }, /option '--tp <n>' value '65' from env 'TPSERVE_TP' is invalid/],
    [['--model', 'm', '--port', 'http'], {}, /--port <port>' argument 'http' is invalid/],
    [['--model', 'm', '--device', 'tpu'], {}, /--device <device>' argument 'tpu' is invalid\. Allowed choices are cpu, cuda/],
    [['--model', 'm', '--max-num-batched-tokens', '1.5'], {}, /--max-num-batched-tokens/],
    [['--model', 'm', '--restart-budget', 'often'], {}, /--restart-budget <n\/s>' argument 'often' is invalid\. must be RESTARTS\/SECONDS/],
  ])('rejects %j %j', (argv, env, message) => {
    expect(() => parse(argv, env)).toThrow(message);
  });
});
