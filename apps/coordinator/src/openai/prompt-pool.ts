// PromptPool: chat-template rendering and tokenization of large prompts on worker_threads, so a
// 100K-token prompt (hundreds of ms of BPE) never stalls the event loop that streams every other
// response. Small prompts stay on the loop (a thread round trip costs more than they do). Each
// thread loads the tokenizer itself (prompt-pool.worker.ts, compiled under dist/); ids are the
// same as the main thread's (prompt-pool.spec.ts). Token ids come back as a transferred
// Int32Array (a 100K-element array cloned across threads costs the loop tens of ms to read; a
// moved buffer costs nothing) and become an array in slices, yielding to the loop between them
// (copying 100K ids at once is itself a multi-ms stall). numThreads 0 keeps everything on the loop.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { findRepoRoot } from '../../../../libs/native/src/addon';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import type { ChatPrompt } from './chat-prompt';

/** Prompts of at least this many characters leave the event loop. */
export const OFFLOAD_MIN_CHARS = 16_384;

export type PromptJob = { id: number; kind: 'encode'; text: string } | { id: number; kind: 'chat'; params: unknown };

/** What a thread sends back: the result with its token ids in a transferred Int32Array. */
export type PromptResultOnWire = { tokens: Int32Array } | (Omit<ChatPrompt, 'tokens'> & { tokens: Int32Array });

export interface PromptReply {
  id: number;
  threadId: number;
  result?: PromptResultOnWire;
  error?: { status: number; message: string; param: string | null; code: string | null };
}

/** Ids copied per turn of the event loop. */
const IDS_PER_SLICE = 8192;

/** `ids` as a plain array, IDS_PER_SLICE at a time, other callbacks running in between. */
export async function toArrayInSlices(ids: Int32Array): Promise<number[]> {
  const out: number[] = [];
  for (let start = 0; start < ids.length; start += IDS_PER_SLICE) {
    if (start > 0) await new Promise((r) => setImmediate(r));
    const end = Math.min(ids.length, start + IDS_PER_SLICE);
    for (let i = start; i < end; i++) out.push(ids[i]);
  }
  return out;
}

interface Pending {
  resolve: (reply: PromptReply) => void;
  reject: (err: Error) => void;
}

export class PromptPool {
  private readonly threads: Worker[] = [];
  private readonly busy: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Thread id of the last job's thread (tests: proof the work left the main thread). */
  lastThreadId = 0;

  constructor(modelDir: string, numThreads: number) {
    const script = join(findRepoRoot(), 'dist', 'apps', 'coordinator', 'src', 'openai', 'prompt-pool.worker.js');
    for (let i = 0; i < numThreads; i++) {
      const w = new Worker(script, { workerData: { modelDir } });
      w.unref(); // never keeps the process alive
      w.on('message', (reply: PromptReply) => this.settle(i, reply));
      w.on('error', (err) => this.failAll(new Error(`prompt thread ${i} failed: ${err.message}`)));
      this.threads.push(w);
      this.busy.push(0);
    }
  }

  get size(): number {
    return this.threads.length;
  }

  /** Whether a prompt of `numChars` characters goes to a thread. */
  shouldOffload(numChars: number): boolean {
    return this.threads.length > 0 && numChars >= OFFLOAD_MIN_CHARS;
  }

  async encode(text: string): Promise<number[]> {
    return (await this.submit({ id: this.nextId++, kind: 'encode', text }) as { tokens: number[] }).tokens;
  }

  /** buildChatPrompt on a thread; rejects with the same OpenAiError it would throw. */
  async chat(params: unknown): Promise<ChatPrompt> {
    return (await this.submit({ id: this.nextId++, kind: 'chat', params })) as ChatPrompt;
  }

  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((w) => w.terminate()));
    this.failAll(new Error('the prompt pool is closed'));
  }

  private async submit(job: PromptJob): Promise<{ tokens: number[] } | ChatPrompt> {
    const i = this.busy.indexOf(Math.min(...this.busy)); // least loaded thread
    this.busy[i]++;
    const reply = await new Promise<PromptReply>((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject });
      this.threads[i].postMessage(job);
    });
    this.lastThreadId = reply.threadId;
    if (reply.error) throw new OpenAiError(reply.error.status, reply.error.message, reply.error.param, reply.error.code);
    const result = reply.result as PromptResultOnWire;
    return { ...result, tokens: await toArrayInSlices(result.tokens) };
  }

  private settle(thread: number, reply: PromptReply): void {
    this.busy[thread]--;
    const p = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    p?.resolve(reply);
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
