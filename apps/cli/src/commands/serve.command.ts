// `tpserve serve`: the OpenAI-compatible server (apps/coordinator) over a worker group.
// Flags win over TPSERVE_* environment variables, which win over defaults (config/server-config.ts).
//   tpserve serve --model DIR --tp 2 --device cpu --host 127.0.0.1 --port 8000
import type { Command } from 'commander';
import { resolveServerConfig, type ServerFlags } from '../../../coordinator/src/config/server-config';
import { serveForever } from '../../../coordinator/src/coordinator.bootstrap';

export function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--tp <n>', 'tensor-parallel degree: worker ranks [env TPSERVE_TP, default 1]')
    .option('--device <device>', 'cpu or cuda [env TPSERVE_DEVICE, default cpu]')
    .option('--host <host>', 'address to bind [env TPSERVE_HOST, default 127.0.0.1]')
    .option('--port <port>', 'port, 0 for any free one [env TPSERVE_PORT, default 8000]')
    .option('--served-model-name <name>', "the model id clients send [env TPSERVE_SERVED_MODEL_NAME, default: the model directory's name]")
    .option('--max-num-seqs <n>', 'most sequences running at once [env TPSERVE_MAX_NUM_SEQS, default 64]')
    .option('--max-num-batched-tokens <n>', 'token budget of one step [env TPSERVE_MAX_NUM_BATCHED_TOKENS, default 2048]')
    .option('--max-model-len <n>', "context length [env TPSERVE_MAX_MODEL_LEN, default: the model's]")
    .option('--max-waiting <n>', 'waiting-queue bound; beyond it 429 [env TPSERVE_MAX_WAITING, default 1024]')
    .option('--kv-cache-bytes <n>', 'KV cache bytes per rank [env TPSERVE_KV_CACHE_BYTES, default: engine default]')
    .option('--request-timeout-ms <n>', 'per-request deadline, 0 for none [env TPSERVE_REQUEST_TIMEOUT_MS, default 600000]')
    .option('--max-body-bytes <n>', 'largest request body [env TPSERVE_MAX_BODY_BYTES, default 4194304]')
    .option('--threads <n>', 'CPU threads per rank, 0 to split the cores [env TPSERVE_THREADS, default 0]')
    .option('--redis-url <url>', 'Redis for keys, limits and usage (optional) [env TPSERVE_REDIS_URL]');
}

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve a model over the OpenAI API (chat/completions, completions, models, health, ready, metrics)')
    .option('--model <dir>', 'model directory (config.json, safetensors, tokenizer.json) [env TPSERVE_MODEL]');
  addServeOptions(cmd).action(async (flags: ServerFlags) => {
    await serveForever(resolveServerConfig(flags));
  });
}
