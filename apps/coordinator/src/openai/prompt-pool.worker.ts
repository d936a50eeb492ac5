// One thread of the PromptPool (prompt-pool.ts): loads the model's tokenizer and chat template
// itself and renders / tokenizes prompts off the coordinator's event loop. Errors go back as the
// OpenAI error they are (status, message, param, code), so the client gets the same 4xx.
// The thread runs at the lowest CPU priority (Linux: SCHED_IDLE and nice 19 for this thread
// alone), so on a busy host a long tokenization takes the cores the event loop and the engine
// leave idle, never theirs: the prompt waits a little longer, the running streams do not.
// Measured (docs/benchmarks.md, issue 13): at nice 19 alone the engine's decode steps still
// stretched to 44-70 ms while a 100K-token prompt was tokenized on a 2-core host; SCHED_IDLE
// also makes the kernel treat the thread's core as free, so a waking engine or loop thread takes
// it at once.
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { ChatTemplateRenderer } from '../../../../libs/chat-template/src/chat-template-renderer';
import type { ChatCompletionParams } from '../../../../libs/openai-protocol/src/chat-completion-request.validator';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { buildChatPrompt } from './chat-prompt';
import type { PromptJob, PromptReply, PromptResultOnWire } from './prompt-pool';

/** Lowers this thread's priority where the OS can (/proc/thread-self names its Linux thread id); a no-op elsewhere. */
function lowerThreadPriority(): void {
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, 19);
  } catch {
    return; // not Linux, or not permitted: the thread keeps the process's priority
  }
  try {
    // Node has no sched_setscheduler; util-linux's chrt sets the policy of one thread id (any
    // thread may lower itself to SCHED_IDLE without privileges).
    execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 5000 });
  } catch {
    // no chrt: nice 19 alone
  }
}

lowerThreadPriority();
const { modelDir } = workerData as { modelDir: string };
const tokenizer = Tokenizer.fromModelDir(modelDir);
const renderer = ChatTemplateRenderer.fromModelDir(modelDir);

function run(job: PromptJob): PromptResultOnWire {
  if (job.kind === 'encode') return { tokens: Int32Array.from(tokenizer.encode(job.text)) };
  const prompt = buildChatPrompt(renderer, tokenizer, job.params as ChatCompletionParams);
  return { ...prompt, tokens: Int32Array.from(prompt.tokens) };
}

parentPort?.on('message', (job: PromptJob) => {
  let reply: PromptReply;
  try {
    reply = { id: job.id, threadId, result: run(job) };
  } catch (err) {
    const e = err instanceof OpenAiError ? err : new OpenAiError(500, `Internal error while preparing the prompt: ${err instanceof Error ? err.message : String(err)}`, null, 'internal_error');
    reply = { id: job.id, threadId, error: { status: e.status, message: e.message, param: e.param, code: e.code } };
  }
  parentPort?.postMessage(reply, reply.result === undefined ? [] : [reply.result.tokens.buffer as ArrayBuffer]); // the ids move, not copied
});
