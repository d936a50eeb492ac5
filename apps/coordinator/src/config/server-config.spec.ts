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

  it('takes --max-prefill-step-ratio (TPSERVE_MAX_PREFILL_STEP_RATIO): 0 (off, the default) or above 1', () => {
    expect(parse(['--model', 'm']).maxPrefillStepRatio).toBe(0);
    expect(parse(['--model', 'm', '--max-prefill-step-ratio', '1.5']).maxPrefillStepRatio).toBe(1.5);
    expect(parse(['--model', 'm'], { TPSERVE_MAX_PREFILL_STEP_RATIO: '3' }).maxPrefillStepRatio).toBe(3);
    for (const bad of ['1', '0.5', '-2', 'x', '']) expect(() => parse(['--model', 'm', '--max-prefill-step-ratio', bad])).toThrow(/--max-prefill-step-ratio.*0 \(off\) or a number in \(1, 1000\]/);
  });

  it('takes --quantization (TPSERVE_QUANTIZATION) from the engine\'s methods', () => {
    expect(parse(['--model', 'm']).quantization).toBe('none');
    expect(parse(['--model', 'm', '--quantization', 'int4']).quantization).toBe('int4');
    expect(parse(['--model', 'm'], { TPSERVE_QUANTIZATION: 'fp8' }).quantization).toBe('fp8');
    expect(() => parse(['--model', 'm', '--quantization', 'int3'])).toThrow(/--quantization/);
  });

  it('takes --kv-cache-dtype (TPSERVE_KV_CACHE_DTYPE): auto (the default), f32, bf16 or f16', () => {
    expect(parse(['--model', 'm']).kvCacheDtype).toBe('auto');
    expect(parse(['--model', 'm', '--kv-cache-dtype', 'f32']).kvCacheDtype).toBe('f32');
    expect(parse(['--model', 'm'], { TPSERVE_KV_CACHE_DTYPE: 'bf16' }).kvCacheDtype).toBe('bf16');
    expect(() => parse(['--model', 'm', '--kv-cache-dtype', 'fp8'])).toThrow(/--kv-cache-dtype/);
  });

  it('takes ranks by address: tp from the list, communicator, mutual TLS files', () => {
    const c = parse(['--model', 'm', '--workers', '10.0.0.2:50051, 10.0.0.3:50051', '--comm', 'gloo', '--worker-tls-cert', 'c.pem', '--worker-tls-key', 'k.pem', '--worker-tls-ca', 'ca.pem']);
    expect(c).toMatchObject({ tp: 2, workers: ['10.0.0.2:50051', '10.0.0.3:50051'], comm: 'gloo' });
    expect(c.remote).toEqual({ tls: { certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem' }, tlsServerName: undefined, insecure: false, connectTimeoutMs: 120_000 });
    expect(parse(['--model', 'm']).workers).toBeUndefined();
    expect(() => parse(['--model', 'm', '--workers', 'a:1,b:2', '--tp', '4'])).toThrow('--tp 4 disagrees with the 2 --workers addresses');
    expect(() => parse(['--model', 'm', '--workers', 'a:1,b'])).toThrow("worker address 'b' is not host:port");
    expect(() => parse(['--model', 'm', '--workers', 'a:1', '--worker-tls-cert', 'c.pem'])).toThrow('--worker-tls-key, --worker-tls-ca missing');
    expect(() => parse(['--model', 'm', '--comm', 'mpi'])).toThrow(/mpi/);
    expect(parse(['--model', 'm'], { TPSERVE_WORKERS: 'a:1,b:2', TPSERVE_WORKER_INSECURE: '1' })).toMatchObject({ tp: 2, comm: 'auto', remote: { insecure: true } });
  });

  it('reads the environment, and flags win over it', () => {
    const env = { TPSERVE_MODEL: 'rel/dir', TPSERVE_TP: '4', TPSERVE_DEVICE: 'cuda', TPSERVE_PORT: '9000', TPSERVE_MAX_NUM_SEQS: '8', TPSERVE_SERVED_MODEL_NAME: 'seed', TPSERVE_REDIS_URL: 'redis://r:6379', TPSERVE_KV_CACHE_BYTES: '1073741824' };
    const c = parse(['--port', '9001'], env);
    expect(c).toMatchObject({ modelDir: path.resolve('rel/dir'), tp: 4, device: 'cuda', port: 9001, maxNumSeqs: 8, servedModelName: 'seed', redisUrl: 'redis://r:6379', kvCacheBytes: 1 << 30 });
  });

  it('has the control-plane and HTTP-limit options, by flag or variable', () => {
    const defaults = parse(['--model', 'm']);
    expect(defaults).toMatchObject({ requireApiKey: false, metricsAuth: false, httpHeaderTimeoutMs: 10_000, httpBodyTimeoutMs: 30_000, httpIdleTimeoutMs: 65_000, maxConnections: 4096 });
    const set = parse(['--model', 'm', '--require-api-key', '--http-header-timeout-ms', '2000', '--max-connections', '0'], { TPSERVE_METRICS_AUTH: '1', TPSERVE_HTTP_IDLE_TIMEOUT_MS: '5000' });
    expect(set).toMatchObject({ requireApiKey: true, metricsAuth: true, httpHeaderTimeoutMs: 2000, httpIdleTimeoutMs: 5000, maxConnections: 0 });
    expect(() => parse(['--model', 'm', '--http-body-timeout-ms', '10'])).toThrow(/--http-body-timeout-ms/);
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
