// PromptPool on real worker_threads (the compiled dist/ thread script, built by `npm test`):
// a large prompt is tokenized off the main thread with ids identical to the main thread's, a
// chat prompt renders the same there, a template error comes back as the same OpenAI 400, and
// (Linux) the pool's threads run at the lowest priority (SCHED_IDLE where chrt exists, nice 19).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { ChatTemplateRenderer } from '../../../../libs/chat-template/src/chat-template-renderer';
import type { ChatCompletionParams } from '../../../../libs/openai-protocol/src/chat-completion-request.validator';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { makeTinyModel } from '../../../../libs/tiny-model/src/make-tiny-model';
import { Tokenizer } from '../../../../libs/tokenizer/src/tokenizer';
import { buildChatPrompt } from './chat-prompt';
import { OFFLOAD_MIN_CHARS, PromptPool, toArrayInSlices } from './prompt-pool';

const dir = mkdtempSync(join(tmpdir(), 'tpserve-prompt-pool-'));
makeTinyModel({ outDir: dir, numLayers: 1, hiddenSize: 16, headDim: 8, intermediateSize: 16 });
const tokenizer = Tokenizer.fromModelDir(dir);
const pool = new PromptPool(dir, 2);
afterAll(() => pool.close());

/** Scheduling policy (stat field 41; 0 = SCHED_OTHER, 5 = SCHED_IDLE) and nice (field 19) of each thread of this process, by thread id. */
function threadPolicies(): Map<number, { policy: number; nice: number }> {
  return new Map(
    readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 on
      return [Number(tid), { policy: Number(fields[41 - 3]), nice: Number(fields[19 - 3]) }];
    }),
  );
}

function hasChrt(): boolean {
  try {
    execFileSync('chrt', ['--max'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('PromptPool', () => {
  // (skipped where the tests themselves run at nice 19: nothing to tell apart)
  it.runIf(existsSync('/proc/self/task') && getPriority() < 19)('runs its threads at the lowest priority, not the rest of the process', async () => {
    await pool.encode('x'.repeat(OFFLOAD_MIN_CHARS)); // both threads are up once one answered
    const threads = threadPolicies();
    const lowered = [...threads.values()].filter((t) => t.nice === 19);
    expect(lowered.length).toBeGreaterThanOrEqual(1);
    if (hasChrt()) expect(lowered.every((t) => t.policy === 5)).toBe(true);
    // the main thread (its id is the process id) keeps the process's priority and policy
    expect(threads.get(process.pid)).toEqual({ policy: 0, nice: getPriority() });
  });

  it('tokenizes a large prompt on another thread, with the same ids', async () => {
    const words = ['alpha', 'Beta', 'γάμμα', '42', 'delta\n', '  épsilon', '😀'];
    const text = Array.from({ length: 12_000 }, (_, i) => words[(i * 7) % words.length]).join(' ');
    expect(pool.shouldOffload(text.length)).toBe(true);
    expect(pool.shouldOffload(OFFLOAD_MIN_CHARS - 1)).toBe(false);
    const ids = await pool.encode(text);
    expect(pool.lastThreadId).not.toBe(threadId);
    expect(pool.lastThreadId).toBeGreaterThan(0);
    expect(ids).toEqual(tokenizer.encode(text));
  });

  it('turns the ids it gets back into an array in slices, letting the loop run between them', async () => {
    const ids = Int32Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 65_536);
    let numTurns = 0;
    let isDone = false;
    const counting = (async () => {
      while (!isDone) await new Promise((r) => setImmediate(r)).then(() => numTurns++);
    })();
    const out = await toArrayInSlices(ids);
    isDone = true;
    await counting;
    expect(out).toEqual(Array.from(ids));
    expect(numTurns).toBeGreaterThanOrEqual(3); // 7 slices of 8192: other callbacks ran between them
    expect(await toArrayInSlices(new Int32Array(0))).toEqual([]);
  });

  it('renders and tokenizes a chat prompt there exactly as on the loop', async () => {
    const params = { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hello there '.repeat(50) }], tools: null, toolChoice: 'auto', thinkingBudget: undefined, chatTemplateKwargs: {} } as unknown as ChatCompletionParams;
    const local = buildChatPrompt(ChatTemplateRenderer.fromModelDir(dir), tokenizer, params);
    expect(await pool.chat(params)).toEqual(local);
  });

  it('answers a message the template rejects with the same OpenAI 400', async () => {
    const params = { messages: [{ role: 'nobody', content: 'x' }], tools: null, toolChoice: 'auto', chatTemplateKwargs: {} } as unknown as ChatCompletionParams;
    const local = (() => {
      try {
        buildChatPrompt(ChatTemplateRenderer.fromModelDir(dir), tokenizer, params);
        return undefined;
      } catch (err) {
        return err as OpenAiError;
      }
    })();
    const remote = await pool.chat(params).then(() => undefined, (err: unknown) => err as OpenAiError);
    if (local === undefined) {
      expect(remote).toBeUndefined(); // this template accepts any role
    } else {
      expect(remote).toBeInstanceOf(OpenAiError);
      expect({ status: remote?.status, message: remote?.message }).toEqual({ status: local.status, message: local.message });
    }
  });
});
