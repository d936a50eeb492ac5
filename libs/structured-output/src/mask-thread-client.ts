// MaskThread: the coordinator's MaskSource. A cached mask is answered at once (microseconds); a
// miss goes to the mask thread (mask-thread.ts, its own sorted vocabulary index and compiled
// grammars) and maskIfReady() answers undefined until the reply is stored in the grammar's cache:
// the sequence sits out those steps while the others run, and the event loop never walks the
// vocabulary. One job per (grammar, state) at a time. The reply is stored under this side's key:
// the thread replays the same journal in the same grammar, so it reaches the same state, though
// its key may differ (pattern DFA states are numbered as they are discovered, per instance). If the
// thread fails, masks are computed on the calling thread from then on: slower, never wrong.
import { Worker } from 'node:worker_threads';
import { stateKey } from './automaton';
import type { CompiledGrammar } from './compiled-grammar';
import type { GrammarMatcher } from './grammar-matcher';
import type { GrammarRequest } from './grammar-request';
import type { MaskSource } from './mask-source';
import { packVocab, type MaskJob, type MaskThreadInit, type MaskThreadReply } from './mask-thread-protocol';
import { TokenMask } from './token-mask';
import type { VocabIndex } from './vocab-index';

interface PendingJob {
  grammar: CompiledGrammar;
  /** The state's key in this side's grammar. */
  key: string;
  /** A warm-up job (no sequence waits for it). */
  isWarmUp: boolean;
}

export interface MaskThreadStats {
  /** Index build time on the thread (ms), once ready. */
  indexMs: number | undefined;
  numJobs: number;
  /** Compute time of each job on the thread (ms), the last 4096. */
  computeMs: number[];
}

export class MaskThread implements MaskSource {
  private readonly thread: Worker;
  private readonly jobs = new Map<number, PendingJob>();
  private readonly inFlight = new WeakMap<CompiledGrammar, Set<string>>();
  private readonly streams = new WeakMap<GrammarMatcher, number>();
  private nextJobId = 1;
  private nextStream = 1;
  private failure: string | undefined;
  readonly stats: MaskThreadStats = { indexMs: undefined, numJobs: 0, computeMs: [] };
  /** Resolves with the thread's index build time (ms) once it takes jobs. */
  readonly ready: Promise<number>;

  constructor(
    private readonly vocab: VocabIndex,
    eosTokenIds: readonly number[],
    script: string,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    const init: MaskThreadInit = { vocab: packVocab(vocab), eosTokenIds: [...eosTokenIds] };
    this.thread = new Worker(script, { workerData: init });
    this.thread.unref(); // never keeps the process alive
    let markReady: (ms: number) => void = () => undefined;
    this.ready = new Promise((resolve) => (markReady = resolve));
    this.thread.on('message', (reply: MaskThreadReply) => {
      if (reply.kind === 'ready') {
        this.stats.indexMs = reply.indexMs;
        markReady(reply.indexMs);
      } else {
        this.settle(reply);
      }
    });
    this.thread.on('error', (err) => this.fail(`the mask thread failed: ${err.message}`));
    this.thread.on('exit', (code) => this.fail(`the mask thread exited (code ${code})`));
  }

  /** Whether masks are computed on the calling thread now (the thread failed). */
  get isFallback(): boolean {
    return this.failure !== undefined;
  }

  maskIfReady(matcher: GrammarMatcher): TokenMask | undefined {
    const key = matcher.stateKey;
    const hit = matcher.grammar.cachedMask(key);
    if (hit !== undefined) return hit;
    if (this.failure !== undefined) return matcher.mask();
    let stream = this.streams.get(matcher);
    if (stream === undefined) this.streams.set(matcher, (stream = this.nextStream++));
    this.submit(matcher.grammar, key, Int32Array.from(matcher.journal), stream, false);
    return undefined;
  }

  maskNow(matcher: GrammarMatcher): TokenMask {
    return matcher.mask();
  }

  /** Computes (on the thread) the masks of the states these texts lead to, so the first requests hit (texts the grammar refuses are skipped). */
  warm(grammar: CompiledGrammar, texts: readonly string[]): void {
    const utf8 = new TextEncoder();
    for (const text of texts) {
      const symbols = Int32Array.from(utf8.encode(text));
      const state = grammar.replay(symbols);
      if (state.length > 0) this.submit(grammar, stateKey(state), symbols, this.nextStream++, true);
    }
  }

  async close(): Promise<void> {
    this.failure ??= 'the mask thread is closed';
    await this.thread.terminate();
  }

  private submit(grammar: CompiledGrammar, key: string, symbols: Int32Array, stream: number, isWarmUp: boolean): void {
    const request: GrammarRequest | undefined = grammar.request;
    if (request === undefined) throw new Error('MaskThread: the grammar was compiled without its request');
    let keys = this.inFlight.get(grammar);
    if (keys === undefined) this.inFlight.set(grammar, (keys = new Set()));
    if (keys.has(key)) return; // another sequence in the same state asked already
    keys.add(key);
    const id = this.nextJobId++;
    this.jobs.set(id, { grammar, key, isWarmUp });
    const job: MaskJob = { id, request, symbols, stream };
    this.thread.postMessage(job);
  }

  private settle(reply: MaskThreadReply & { kind: 'mask' | 'error' }): void {
    const job = this.jobs.get(reply.id);
    this.jobs.delete(reply.id);
    if (job === undefined) return;
    this.inFlight.get(job.grammar)?.delete(job.key);
    if (reply.kind === 'error') return job.isWarmUp ? undefined : this.fail(`the mask thread refused a job: ${reply.message}`);
    this.stats.numJobs++;
    this.stats.computeMs.push(reply.computeMs);
    if (this.stats.computeMs.length > 4096) this.stats.computeMs.shift();
    job.grammar.storeMask(job.key, new TokenMask(this.vocab.vocabSize, reply.bits));
  }

  private fail(message: string): void {
    if (this.failure !== undefined) return;
    this.failure = message;
    this.onError(`${message}; computing masks on the event loop from now on`);
  }
}
