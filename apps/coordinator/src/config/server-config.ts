// ServerConfig: everything `tpserve serve` needs. One table (SERVER_OPTIONS) describes every
// option once: flag, TPSERVE_* variable, help, default and parser; commander layers them (flag,
// then environment with Option.env(), then default) and names the flag and the variable in its
// error. toServerConfig adds what is derived (absolute model path, served name). Tests:
// server-config.spec.ts.
import * as path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { KV_CACHE_DTYPE_HELP, KV_CACHE_DTYPES, QUANTIZATIONS, type Device, type KvCacheDtype, type Quantization } from '../../../../libs/native/src/types';
import type { CommChoice, RemoteWorkerOptions } from '../../../../libs/worker-group/src/worker-connect';
import { parseWorkerAddresses } from '../../../../libs/worker-protocol/src/worker-address';
import { tlsFilesFrom } from '../../../../libs/worker-protocol/src/worker-tls';
import { parseRestartBudget, type RestartBudgetSpec } from '../../../../libs/worker-group/src/restart-budget';

/** `workers`: ranks by address instead of tp spawned ones; `comm`; `remote`: TLS + connect timeout. */
export interface ServerConfig extends WorkerGroupConfig {
  modelDir: string;
  /** The model id clients send (default: the model directory's name). */
  servedModelName: string;
  tp: number;
  device: Device;
  /** Quantize-at-load of the linear layers ('none': the checkpoint's weights). */
  quantization: Quantization;
  /** Each token's logits independent of the rest of its step (CPU only; EngineOptions.batchInvariant). */
  batchInvariant: boolean;
  /** KV cache element type ('auto': the model's own; EngineOptions.kvCacheDtype). */
  kvCacheDtype: KvCacheDtype;
  host: string;
  port: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  /** Cap on one prompt's prefill chunk per step so running decodes keep short steps (0: none). */
  longPrefillTokenThreshold: number;
  /** Prefill cost budget: a step with prompt chunks is predicted to take at most this × its decodes alone (0: none). */
  maxPrefillStepRatio: number;
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
  /** A step every rank must answer within; past it (and a failed Health) the rank is hung. */
  stepTimeoutMs: number;
  /** Worker-group restarts allowed per window; past it /health fails. */
  restartBudget: RestartBudgetSpec;
  /** SIGTERM: how long running and queued requests may take to finish. */
  drainTimeoutMs: number;
  /** Plan step N+1 while step N runs on the workers (the scheduler's asyncScheduling). */
  asyncScheduling: boolean;
  /** With async scheduling, steps sent behind the running one (1 or 2: the scheduler's maxStepsAhead). */
  stepsAhead: number;
  /** worker_threads rendering and tokenizing large prompts off the event loop (0: on the loop). */
  promptThreads: number;
  /** A JSON line per applied step goes here (what it held, why it was sent when it was, the wait before it). */
  stepTrace?: string;
  /** Every /v1 route needs a key, even before any key exists. */
  requireApiKey: boolean;
  /** /metrics needs a key too (it is open by default, for Prometheus). */
  metricsAuth: boolean;
  /** A client must send its request headers within this (Node's headersTimeout). */
  httpHeaderTimeoutMs: number;
  /** ... and its whole request, headers and body, within this (Node's requestTimeout). */
  httpBodyTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  httpIdleTimeoutMs: number;
  /** Open connections beyond this are refused (0: no cap). */
  maxConnections: number;
}

/** What commander hands the action: the parsed values, keyed as ServerConfig plus `model`. */
export type ServerOptionValues = Partial<Omit<ServerConfig, 'modelDir' | 'workers' | 'remote'>> & {
  model?: string;
  workers?: string[];
  workerTlsCert?: string;
  workerTlsKey?: string;
  workerTlsCa?: string;
  workerTlsServerName?: string;
  workerInsecure?: boolean;
  workerConnectTimeoutMs?: number;
};

interface OptionSpec {
  flags: string;
  env: string;
  description: string;
  defaultValue?: string | number | boolean;
  /** Shown in --help instead of the default value. */
  defaultDescription?: string;
  choices?: readonly string[];
  parse?: (value: string) => unknown;
}

function onOffArg(value: string): boolean {
  if (value === 'on' || value === 'off') return value === 'on';
  throw new InvalidArgumentError('must be on or off.');
}

/** An argParser for an integer in [min, max]; commander adds which flag or variable it came from. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const text = value.trim();
    const n = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer in [${min}, ${max}].`);
    }
    return n;
  };
}

/** 0 (off) or a ratio above 1 (the prefill cost budget). */
function prefillRatioArg(value: string): number {
  const text = value.trim();
  const r = Number(text);
  if (text === '' || !Number.isFinite(r) || (r !== 0 && (r <= 1 || r > 1000))) throw new InvalidArgumentError('must be 0 (off) or a number in (1, 1000].');
  return r;
}

function restartBudgetArg(value: string): RestartBudgetSpec {
  try {
    return parseRestartBudget(value);
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message}.`);
  }
}

/** --batch-invariant's help, shared by serve and the engine commands. */
export const BATCH_INVARIANT_HELP =
  'compute each token exactly as if it were alone in its step (CPU only; bf16 prefill ~0.67x, decode ~0.8-0.9x the speed): a request resumed after a worker fault, or run beside others, gives the same text as alone';

const SERVER_OPTIONS: Record<keyof ServerOptionValues, OptionSpec> = {
  model: { flags: '--model <dir>', env: 'TPSERVE_MODEL', description: 'model directory (config.json, safetensors, tokenizer.json)' },
  tp: { flags: '--tp <n>', env: 'TPSERVE_TP', description: 'tensor-parallel degree: worker ranks', defaultValue: 1, parse: integerIn(1, 64) },
  device: { flags: '--device <device>', env: 'TPSERVE_DEVICE', description: 'backend of the worker ranks', defaultValue: 'cpu', choices: ['cpu', 'cuda'] },
  quantization: { flags: '--quantization <method>', env: 'TPSERVE_QUANTIZATION', description: 'weight-only quantization at load (int8 per channel, int4 g128, fp8 e4m3; CPU and CUDA)', defaultValue: 'none', choices: QUANTIZATIONS },
  batchInvariant: { flags: '--batch-invariant', env: 'TPSERVE_BATCH_INVARIANT', description: BATCH_INVARIANT_HELP, defaultValue: false },
  kvCacheDtype: { flags: '--kv-cache-dtype <dtype>', env: 'TPSERVE_KV_CACHE_DTYPE', description: KV_CACHE_DTYPE_HELP, defaultValue: 'auto', choices: KV_CACHE_DTYPES },
  host: { flags: '--host <host>', env: 'TPSERVE_HOST', description: 'address to bind', defaultValue: '127.0.0.1' },
  port: { flags: '--port <port>', env: 'TPSERVE_PORT', description: 'port, 0 for any free one', defaultValue: 8000, parse: integerIn(0, 65535) },
  servedModelName: { flags: '--served-model-name <name>', env: 'TPSERVE_SERVED_MODEL_NAME', description: 'the model id clients send', defaultDescription: "the model directory's name" },
  maxNumSeqs: { flags: '--max-num-seqs <n>', env: 'TPSERVE_MAX_NUM_SEQS', description: 'most sequences running at once', defaultValue: 64, parse: integerIn(1, 4096) },
  maxNumBatchedTokens: { flags: '--max-num-batched-tokens <n>', env: 'TPSERVE_MAX_NUM_BATCHED_TOKENS', description: 'token budget of one step', defaultValue: 2048, parse: integerIn(1, 1 << 20) },
  longPrefillTokenThreshold: { flags: '--long-prefill-token-threshold <n>', env: 'TPSERVE_LONG_PREFILL_TOKEN_THRESHOLD', description: 'most prompt tokens of one request computed per step (chunked prefill), so the running streams keep short steps; 0 for only the step budget', defaultValue: 0, parse: integerIn(0, 1 << 20) },
  maxPrefillStepRatio: { flags: '--max-prefill-step-ratio <r>', env: 'TPSERVE_MAX_PREFILL_STEP_RATIO', description: 'while streams decode, size prompt chunks so a step is predicted to take at most r times its decodes alone (cost model fitted from step times; a prompt still advances one token per step); 0 for off', defaultValue: 0, parse: prefillRatioArg },
  maxModelLen: { flags: '--max-model-len <n>', env: 'TPSERVE_MAX_MODEL_LEN', description: 'context length, 0 for the model\'s', defaultValue: 0, parse: integerIn(0, 1 << 24) },
  maxWaiting: { flags: '--max-waiting <n>', env: 'TPSERVE_MAX_WAITING', description: 'waiting-queue bound; beyond it 429', defaultValue: 1024, parse: integerIn(1, 1 << 20) },
  kvCacheBytes: { flags: '--kv-cache-bytes <n>', env: 'TPSERVE_KV_CACHE_BYTES', description: 'KV cache bytes per rank, 0 for the engine default', defaultValue: 0, parse: integerIn(0, Number.MAX_SAFE_INTEGER) },
  requestTimeoutMs: { flags: '--request-timeout-ms <n>', env: 'TPSERVE_REQUEST_TIMEOUT_MS', description: 'per-request deadline, 0 for none', defaultValue: 600_000, parse: integerIn(0, 24 * 3600_000) },
  maxBodyBytes: { flags: '--max-body-bytes <n>', env: 'TPSERVE_MAX_BODY_BYTES', description: 'largest request body', defaultValue: 4 << 20, parse: integerIn(1024, 1 << 30) },
  threadsPerRank: { flags: '--threads <n>', env: 'TPSERVE_THREADS', description: 'CPU threads per rank, 0 to split the cores', defaultValue: 0, parse: integerIn(0, 1024) },
  workers: { flags: '--workers <list>', env: 'TPSERVE_WORKERS', description: 'running `tpserve worker` ranks host:port,host:port,... (rank order), or lws[:PORT] for a LeaderWorkerSet group, instead of spawning --tp local ones', parse: (v: string) => parseWorkerAddresses(v) },
  comm: { flags: '--comm <backend>', env: 'TPSERVE_COMM', description: 'CPU collectives: auto (shared memory on one host, Gloo across hosts), shm or gloo', defaultValue: 'auto', choices: ['auto', 'shm', 'gloo'] },
  workerTlsCert: { flags: '--worker-tls-cert <file>', env: 'TPSERVE_WORKER_TLS_CERT', description: 'client certificate (PEM) for mutual TLS to the --workers' },
  workerTlsKey: { flags: '--worker-tls-key <file>', env: 'TPSERVE_WORKER_TLS_KEY', description: 'private key (PEM) of that certificate' },
  workerTlsCa: { flags: '--worker-tls-ca <file>', env: 'TPSERVE_WORKER_TLS_CA', description: 'CA (PEM) that signed the workers\' certificates' },
  workerTlsServerName: { flags: '--worker-tls-server-name <name>', env: 'TPSERVE_WORKER_TLS_SERVER_NAME', description: 'name the workers\' certificate carries, when not their address' },
  workerInsecure: { flags: '--worker-insecure', env: 'TPSERVE_WORKER_INSECURE', description: 'allow plaintext gRPC to --workers off loopback (trusted networks only)' },
  workerConnectTimeoutMs: { flags: '--worker-connect-timeout-ms <n>', env: 'TPSERVE_WORKER_CONNECT_TIMEOUT_MS', description: 'how long to wait for the --workers to accept connections', defaultValue: 120_000, parse: integerIn(100, 3600_000) },
  stepTimeoutMs: { flags: '--step-timeout-ms <n>', env: 'TPSERVE_STEP_TIMEOUT_MS', description: 'step deadline: a rank silent this long (and failing Health) is hung and replaced', defaultValue: 120_000, parse: integerIn(100, 3600_000) },
  restartBudget: { flags: '--restart-budget <n/s>', env: 'TPSERVE_RESTART_BUDGET', description: 'worker-group restarts allowed per window (RESTARTS/SECONDS, 0: never); past it /health answers 503', defaultValue: '5/600', parse: restartBudgetArg },
  drainTimeoutMs: { flags: '--drain-timeout-ms <n>', env: 'TPSERVE_DRAIN_TIMEOUT_MS', description: 'on SIGTERM, time for running and queued requests to finish (keep below the pod grace period)', defaultValue: 90_000, parse: integerIn(0, 3600_000) },
  promptThreads: { flags: '--prompt-threads <n>', env: 'TPSERVE_PROMPT_THREADS', description: 'threads that render and tokenize large prompts off the event loop, 0 for none', defaultValue: 1, parse: integerIn(0, 64) },
  asyncScheduling: { flags: '--async-scheduling <on|off>', env: 'TPSERVE_ASYNC_SCHEDULING', description: 'schedule the next step while the workers run the current one', defaultValue: 'on', parse: onOffArg },
  stepsAhead: { flags: '--steps-ahead <n>', env: 'TPSERVE_STEPS_AHEAD', description: 'with async scheduling, steps queued on the workers behind the running one (2: a reply that reaches the coordinator up to a step late still finds the workers busy; a late stop costs one more speculative token)', defaultValue: 2, parse: integerIn(1, 2) },
  stepTrace: { flags: '--step-trace <file>', env: 'TPSERVE_STEP_TRACE', description: 'append one JSON line per engine step to FILE: its decodes, prefill tokens and admissions, why it was sent when it was, the workers\' wait before it, GC and event-loop delay (diagnostics)' },
  redisUrl: { flags: '--redis-url <url>', env: 'TPSERVE_REDIS_URL', description: 'Redis for API keys, rate limits and usage, shared by replicas (default: in memory, one replica)' },
  requireApiKey: { flags: '--require-api-key', env: 'TPSERVE_REQUIRE_API_KEY', description: 'every /v1 route needs an API key, even when none exists yet', defaultValue: false },
  metricsAuth: { flags: '--metrics-auth', env: 'TPSERVE_METRICS_AUTH', description: '/metrics needs an API key too (open by default)', defaultValue: false },
  httpHeaderTimeoutMs: { flags: '--http-header-timeout-ms <n>', env: 'TPSERVE_HTTP_HEADER_TIMEOUT_MS', description: 'deadline for a client to send its request headers', defaultValue: 10_000, parse: integerIn(1000, 600_000) },
  httpBodyTimeoutMs: { flags: '--http-body-timeout-ms <n>', env: 'TPSERVE_HTTP_BODY_TIMEOUT_MS', description: 'deadline for a client to send its whole request (headers and body)', defaultValue: 30_000, parse: integerIn(1000, 3600_000) },
  httpIdleTimeoutMs: { flags: '--http-idle-timeout-ms <n>', env: 'TPSERVE_HTTP_IDLE_TIMEOUT_MS', description: 'idle keep-alive connections are closed after this', defaultValue: 65_000, parse: integerIn(1000, 3600_000) },
  maxConnections: { flags: '--max-connections <n>', env: 'TPSERVE_MAX_CONNECTIONS', description: 'open HTTP connections at most, 0 for no cap', defaultValue: 4096, parse: integerIn(0, 1 << 20) },
};

/**
 * Adds every serve option to `cmd`. `defaults` replaces the table's defaults (`tpserve start`
 * serves with 2 ranks); `omit` leaves options out (start always serves its own model).
 */
export function addServerOptions(cmd: Command, defaults: Partial<Record<keyof ServerOptionValues, string | number | boolean>> = {}, omit: ReadonlyArray<keyof ServerOptionValues> = []): Command {
  return addOptions(cmd, (key) => !omit.includes(key), defaults);
}

/** The options that reach worker ranks by address (for logits, generate, bench). */
const WORKER_GROUP_KEYS: ReadonlyArray<keyof ServerOptionValues> = [
  'workers', 'comm', 'workerTlsCert', 'workerTlsKey', 'workerTlsCa', 'workerTlsServerName', 'workerInsecure', 'workerConnectTimeoutMs',
];

export function addWorkerGroupOptions(cmd: Command): Command {
  return addOptions(cmd, (key) => WORKER_GROUP_KEYS.includes(key), {});
}

export interface WorkerGroupConfig {
  workers?: string[];
  comm: CommChoice;
  remote: RemoteWorkerOptions;
}

/** The worker-group part of the config (addresses, communicator, TLS) from commander's values. */
export function toWorkerGroupConfig(values: ServerOptionValues): WorkerGroupConfig {
  return {
    workers: values.workers,
    comm: values.comm ?? 'auto',
    remote: {
      tls: tlsFilesFrom(values.workerTlsCert, values.workerTlsKey, values.workerTlsCa, '--worker-tls'),
      tlsServerName: values.workerTlsServerName || undefined,
      insecure: Boolean(values.workerInsecure),
      connectTimeoutMs: values.workerConnectTimeoutMs ?? 120_000,
    },
  };
}

function addOptions(cmd: Command, wanted: (key: keyof ServerOptionValues) => boolean, defaults: Partial<Record<keyof ServerOptionValues, string | number | boolean>>): Command {
  for (const [key, spec] of Object.entries(SERVER_OPTIONS) as Array<[keyof ServerOptionValues, OptionSpec]>) {
    if (!wanted(key)) continue;
    const option = new Option(spec.flags, spec.description).env(spec.env);
    const defaultValue = defaults[key] ?? spec.defaultValue;
    if (defaultValue !== undefined) option.default(defaultValue, spec.defaultDescription);
    else if (spec.defaultDescription) option.default(undefined, spec.defaultDescription);
    if (spec.choices) option.choices(spec.choices);
    if (spec.parse) option.argParser(spec.parse);
    cmd.addOption(option);
  }
  return cmd;
}

/** The whole config from commander's values; throws one Error when the model is missing. */
export function toServerConfig(values: ServerOptionValues): ServerConfig {
  if (values.model === undefined || values.model === '') throw new Error('--model DIR (or TPSERVE_MODEL) is required');
  const modelDir = path.resolve(values.model);
  const option = <K extends keyof ServerOptionValues>(key: K): NonNullable<ServerOptionValues[K]> => {
    const value = values[key] ?? SERVER_OPTIONS[key].defaultValue;
    if (value === undefined) throw new Error(`${SERVER_OPTIONS[key].flags} has no value`);
    return value as NonNullable<ServerOptionValues[K]>;
  };
  const workers = values.workers;
  let tp = option('tp');
  if (workers) {
    if (tp !== 1 && tp !== workers.length) throw new Error(`--tp ${tp} disagrees with the ${workers.length} --workers addresses (leave --tp out)`);
    tp = workers.length;
  }
  return {
    modelDir,
    servedModelName: values.servedModelName || path.basename(modelDir),
    tp,
    device: option('device'),
    quantization: option('quantization'),
    batchInvariant: option('batchInvariant'),
    kvCacheDtype: option('kvCacheDtype'),
    host: option('host'),
    port: option('port'),
    maxNumSeqs: option('maxNumSeqs'),
    maxNumBatchedTokens: option('maxNumBatchedTokens'),
    longPrefillTokenThreshold: option('longPrefillTokenThreshold'),
    maxPrefillStepRatio: option('maxPrefillStepRatio'),
    maxModelLen: option('maxModelLen'),
    maxWaiting: option('maxWaiting'),
    kvCacheBytes: option('kvCacheBytes'),
    requestTimeoutMs: option('requestTimeoutMs'),
    maxBodyBytes: option('maxBodyBytes'),
    threadsPerRank: option('threadsPerRank'),
    redisUrl: values.redisUrl || undefined,
    stepTrace: values.stepTrace || undefined,
    ...toWorkerGroupConfig(values),
    stepTimeoutMs: option('stepTimeoutMs'),
    // commander parses given values only; a default arrives as its text
    restartBudget: ((v: RestartBudgetSpec | string) => (typeof v === 'string' ? parseRestartBudget(v) : v))(option('restartBudget')),
    drainTimeoutMs: option('drainTimeoutMs'),
    promptThreads: option('promptThreads'),
    asyncScheduling: ((v: boolean | string) => (typeof v === 'string' ? onOffArg(v) : v))(option('asyncScheduling')),
    stepsAhead: option('stepsAhead'),
    requireApiKey: option('requireApiKey'),
    metricsAuth: option('metricsAuth'),
    httpHeaderTimeoutMs: option('httpHeaderTimeoutMs'),
    httpBodyTimeoutMs: option('httpBodyTimeoutMs'),
    httpIdleTimeoutMs: option('httpIdleTimeoutMs'),
    maxConnections: option('maxConnections'),
  };
}
