// The mask thread (a worker_threads script, run from dist/): builds the sorted vocabulary index
// itself, off the coordinator's event loop, then computes the masks the coordinator's cache
// lacks. Each job names its grammar (compiled here too, from the same request) and the journal
// of symbols that leads to the state; the last replayed state of each matcher (stream) is kept,
// so a job replays only the new symbols. Protocol: mask-thread-protocol.ts; client: mask-thread-client.ts.
import { parentPort, workerData } from 'node:worker_threads';
import type { StateSet } from './automaton';
import type { CompiledGrammar } from './compiled-grammar';
import { GrammarCompiler } from './grammar-compiler';
import { unpackVocab, type MaskJob, type MaskThreadInit, type MaskThreadReply } from './mask-thread-protocol';

const MAX_STREAMS = 4096;

const init = workerData as MaskThreadInit;
const started = performance.now();
const vocab = unpackVocab(init.vocab);
vocab.prepare();
const compiler = new GrammarCompiler(vocab, init.eosTokenIds);
const streams = new Map<number, { grammar: CompiledGrammar; length: number; state: StateSet }>();
const post = (reply: MaskThreadReply, transfer: ArrayBuffer[] = []): void => parentPort?.postMessage(reply, transfer);
post({ kind: 'ready', indexMs: performance.now() - started });

function run(job: MaskJob): MaskThreadReply & { kind: 'mask' } {
  const t0 = performance.now();
  const grammar = compiler.compile(job.request);
  const last = streams.get(job.stream);
  const resume = last !== undefined && last.grammar === grammar && last.length <= job.symbols.length;
  const state = resume ? grammar.replay(job.symbols, last.state, last.length) : grammar.replay(job.symbols);
  if (state.length === 0) throw new Error('the journal leads nowhere in its grammar');
  streams.delete(job.stream);
  streams.set(job.stream, { grammar, length: job.symbols.length, state });
  if (streams.size > MAX_STREAMS) streams.delete(streams.keys().next().value!);
  const bits = grammar.mask(state).bits.slice(); // the cached one stays here; the copy is transferred
  return { kind: 'mask', id: job.id, bits, computeMs: performance.now() - t0 };
}

parentPort?.on('message', (job: MaskJob) => {
  try {
    const reply = run(job);
    post(reply, [reply.bits.buffer as ArrayBuffer]);
  } catch (err) {
    post({ kind: 'error', id: job.id, message: err instanceof Error ? err.message : String(err) });
  }
});
