// ServerConfig: everything `tpserve serve` needs, from CLI flags, then TPSERVE_* environment
// variables, then defaults (flags win). resolveServerConfig validates and throws one Error
// naming the flag and the variable. Tests: server-config.spec.ts.
import * as path from 'node:path';
import type { Device } from '../../../../libs/native/src/types';

export interface ServerConfig {
  modelDir: string;
  /** The model id clients send (default: the model directory's name). */
  servedModelName: string;
  tp: number;
  device: Device;
  host: string;
  port: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  /** 0: the model's max_position_embeddings. */
  maxModelLen: number;
  maxWaiting: number;
  /** KV cache bytes per rank (0: the engine's default). */
  kvCacheBytes: number;
  /** Per-request deadline (0: none). */
  requestTimeoutMs: number;
  /** Request bodies above this are refused with 413. */
  maxBodyBytes: number;
  /** CPU threads per rank (0: the cores split between ranks). */
  threadsPerRank: number;
  redisUrl?: string;
}

/** Flag values as commander gives them (strings, or undefined when not passed). */
export type ServerFlags = Partial<Record<keyof ServerConfig | 'model', string>>;

interface FieldSpec {
  flag: string;
  env: string;
  min: number;
  max: number;
  fallback: number;
}

const INT_FIELDS: Partial<Record<keyof ServerConfig, FieldSpec>> = {
  tp: { flag: '--tp', env: 'TPSERVE_TP', min: 1, max: 64, fallback: 1 },
  port: { flag: '--port', env: 'TPSERVE_PORT', min: 0, max: 65535, fallback: 8000 },
  maxNumSeqs: { flag: '--max-num-seqs', env: 'TPSERVE_MAX_NUM_SEQS', min: 1, max: 4096, fallback: 64 },
  maxNumBatchedTokens: { flag: '--max-num-batched-tokens', env: 'TPSERVE_MAX_NUM_BATCHED_TOKENS', min: 1, max: 1 << 20, fallback: 2048 },
  maxModelLen: { flag: '--max-model-len', env: 'TPSERVE_MAX_MODEL_LEN', min: 0, max: 1 << 24, fallback: 0 },
  maxWaiting: { flag: '--max-waiting', env: 'TPSERVE_MAX_WAITING', min: 1, max: 1 << 20, fallback: 1024 },
  kvCacheBytes: { flag: '--kv-cache-bytes', env: 'TPSERVE_KV_CACHE_BYTES', min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 },
  requestTimeoutMs: { flag: '--request-timeout-ms', env: 'TPSERVE_REQUEST_TIMEOUT_MS', min: 0, max: 24 * 3600_000, fallback: 600_000 },
  maxBodyBytes: { flag: '--max-body-bytes', env: 'TPSERVE_MAX_BODY_BYTES', min: 1024, max: 1 << 30, fallback: 4 << 20 },
  threadsPerRank: { flag: '--threads', env: 'TPSERVE_THREADS', min: 0, max: 1024, fallback: 0 },
};

function pick(flag: string | undefined, env: NodeJS.ProcessEnv, name: string): string | undefined {
  if (flag !== undefined) return flag;
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function parseInteger(text: string | undefined, spec: FieldSpec): number {
  if (text === undefined) return spec.fallback;
  const n = Number(text.trim());
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < spec.min || n > spec.max) {
    throw new Error(`${spec.flag} (or ${spec.env}) must be an integer in [${spec.min}, ${spec.max}], got '${text}'`);
  }
  return n;
}

export function resolveServerConfig(flags: ServerFlags, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const model = pick(flags.model ?? flags.modelDir, env, 'TPSERVE_MODEL');
  if (model === undefined) throw new Error('--model DIR (or TPSERVE_MODEL) is required');
  const device = pick(flags.device, env, 'TPSERVE_DEVICE') ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') throw new Error(`--device (or TPSERVE_DEVICE) must be cpu or cuda, got '${device}'`);
  const ints = {} as Record<string, number>;
  for (const [key, spec] of Object.entries(INT_FIELDS) as Array<[keyof ServerConfig, FieldSpec]>) {
    ints[key] = parseInteger(pick(flags[key], env, spec.env), spec);
  }
  const modelDir = path.resolve(model);
  return {
    modelDir,
    servedModelName: pick(flags.servedModelName, env, 'TPSERVE_SERVED_MODEL_NAME') ?? path.basename(modelDir),
    device,
    host: pick(flags.host, env, 'TPSERVE_HOST') ?? '127.0.0.1',
    redisUrl: pick(flags.redisUrl, env, 'TPSERVE_REDIS_URL'),
    tp: ints.tp,
    port: ints.port,
    maxNumSeqs: ints.maxNumSeqs,
    maxNumBatchedTokens: ints.maxNumBatchedTokens,
    maxModelLen: ints.maxModelLen,
    maxWaiting: ints.maxWaiting,
    kvCacheBytes: ints.kvCacheBytes,
    requestTimeoutMs: ints.requestTimeoutMs,
    maxBodyBytes: ints.maxBodyBytes,
    threadsPerRank: ints.threadsPerRank,
  };
}
