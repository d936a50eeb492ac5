// ModelRuntime: what the coordinator loads once at start — the tokenizer, the chat template, the
// worker group (the StepExecutor) and the limits derived from them (context length, vocabulary
// limit, EOS ids). Checks that the model can be split `tp` ways before spawning any worker.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ChatTemplateRenderer } from '../../../../libs/chat-template/src/chat-template-renderer';
import type { StepExecutor } from '../../../../libs/native/src/step-executor';
import type { ModelInfo } from '../../../../libs/native/src/types';
import { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { SupervisedWorkerGroup } from '../../../../libs/worker-group/src/supervised-worker-group';
import type { WorkerGroupError } from '../../../../libs/worker-group/src/worker-group';
import type { ServerConfig } from '../config/server-config';

/** A StepExecutor that can fail as a whole (a dead or hung rank), be replaced and be closed: SupervisedWorkerGroup. */
export interface EngineExecutor extends StepExecutor {
  /** Called on every fault of the current group. */
  onFailure(listener: (err: WorkerGroupError) => void): void;
  /** Fences the current group and starts a new one; resolves with its model info. */
  restart(): Promise<ModelInfo>;
  close(): Promise<void>;
  readonly size: number;
  /** Process ids of the current ranks. */
  readonly pids: number[];
}

/** Throws a clear Error when config.json's heads cannot be split `tp` ways. */
export function checkTensorParallel(modelDir: string, tp: number): void {
  const file = path.join(modelDir, 'config.json');
  if (!fs.existsSync(file)) throw new Error(`${file} not found: --model must be a model directory (config.json, safetensors, tokenizer.json)`);
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const heads = Number(config.num_attention_heads);
  const kvHeads = Number(config.num_key_value_heads ?? heads);
  if (heads % tp !== 0 || kvHeads % tp !== 0) {
    throw new Error(
      `--tp ${tp} cannot split this model: ${heads} attention heads and ${kvHeads} key/value heads must both be divisible by tp ` +
        `(valid: ${[1, 2, 4, 8, 16, 32, 64].filter((t) => heads % t === 0 && kvHeads % t === 0 && t <= kvHeads).join(', ')})`,
    );
  }
}

export class ModelRuntime {
  readonly createdAt = Math.floor(Date.now() / 1000);

  constructor(
    readonly config: ServerConfig,
    readonly tokenizer: Tokenizer,
    readonly renderer: ChatTemplateRenderer,
    readonly executor: EngineExecutor,
    /** Context length (prompt + output) the server accepts. */
    readonly maxModelLen: number,
  ) {}

  static async load(config: ServerConfig, log: (line: string) => void): Promise<ModelRuntime> {
    checkTensorParallel(config.modelDir, config.tp);
    const tokenizer = Tokenizer.fromModelDir(config.modelDir);
    const renderer = ChatTemplateRenderer.fromModelDir(config.modelDir);
    log(config.workers
      ? `connecting to ${config.tp} ${config.device} worker rank(s) at ${config.workers.join(', ')} for ${config.modelDir}`
      : `starting ${config.tp} ${config.device} worker rank(s) for ${config.modelDir}`);
    const group = await SupervisedWorkerGroup.start({
      modelDir: config.modelDir,
      device: config.device,
      quantization: config.quantization,
      batchInvariant: config.batchInvariant,
      kvCacheDtype: config.kvCacheDtype,
      tp: config.tp,
      addresses: config.workers,
      comm: config.comm,
      remote: config.remote,
      kvCacheBytes: config.kvCacheBytes || undefined,
      numThreadsPerRank: config.threadsPerRank || undefined,
      stepTimeoutMs: config.stepTimeoutMs,
    });
    try {
      return ModelRuntime.create(config, tokenizer, renderer, group);
    } catch (err) {
      await group.close();
      throw err;
    }
  }

  static create(config: ServerConfig, tokenizer: Tokenizer, renderer: ChatTemplateRenderer, executor: EngineExecutor): ModelRuntime {
    const info = executor.info();
    if (tokenizer.vocabSize > info.vocabSize) {
      throw new Error(`the tokenizer has ${tokenizer.vocabSize} tokens but the model only ${info.vocabSize} embedding rows`);
    }
    if (config.maxModelLen > info.maxPositionEmbeddings) {
      throw new Error(`--max-model-len ${config.maxModelLen} exceeds the model's max_position_embeddings (${info.maxPositionEmbeddings})`);
    }
    const maxModelLen = config.maxModelLen || info.maxPositionEmbeddings;
    return new ModelRuntime(config, tokenizer, renderer, executor, maxModelLen);
  }

  get info(): ModelInfo {
    return this.executor.info();
  }

  /** Never sample an id the tokenizer lacks (Seed-OSS pads 155,121 tokens to 155,136 rows). */
  get vocabLimit(): number {
    return this.tokenizer.vocabSize;
  }

  get eosTokenIds(): number[] {
    const ids = new Set(this.info.eosTokenIds);
    const eos = this.tokenizer.eosTokenId;
    if (eos !== undefined) ids.add(eos);
    return [...ids];
  }

  close(): Promise<void> {
    return this.executor.close();
  }
}
