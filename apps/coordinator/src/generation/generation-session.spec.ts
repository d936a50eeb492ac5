// GenerationSession against a fake engine: n choices in one event stream, stop strings abort
// their sequence, timeouts become 504, worker failures 503, refused submits abort the rest.
import { describe, expect, it } from 'vitest';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import type { SequenceRequest, TokenEvent } from '../engine/engine-request';
import { GenerationSession, type Choice, type SessionEvent } from './generation-session';

class FakeEngine {
  readonly requests: SequenceRequest[] = [];
  readonly aborted: number[] = [];
  refuseAfter = Infinity;
  submit(request: SequenceRequest): number {
    if (this.requests.length >= this.refuseAfter) throw new OpenAiError(429, 'full');
    this.requests.push(request);
    return this.requests.length - 1;
  }
  abort(id: number): void {
    this.aborted.push(id);
  }
}

/** A choice that turns each token into its number as text and "stops" on token 99. */
class EchoChoice implements Choice<string> {
  numTokens = 0;
  isStopped = false;
  push(e: TokenEvent): string[] {
    this.numTokens++;
    if (e.token === 99) this.isStopped = true;
    return this.isStopped ? [] : [String(e.token)];
  }
  flush(): string[] {
    return ['.'];
  }
}

const ev = (token: number): TokenEvent => ({ token, logprob: 0, topLogprobs: [], isForced: false });
const req = { promptTokens: [1], params: {} };

async function drain(session: GenerationSession<string>): Promise<SessionEvent<string>[]> {
  const out: SessionEvent<string>[] = [];
  for await (const e of session.events) out.push(e);
  return out;
}

describe('GenerationSession', () => {
  it('measures TTFT from the request arrival, and reports cached prompt tokens and how choices end', async () => {
    const engine = new FakeEngine();
    const ttfts: number[] = [];
    const ends: string[] = [];
    const arrivedAtMs = performance.now() - 400; // e.g. 400 ms of tokenization before the session
    const session = new GenerationSession(engine, [new EchoChoice(), new EchoChoice()], {
      arrivedAtMs, onFirstToken: (s) => ttfts.push(s), onChoiceEnd: (r) => ends.push(r),
    });
    session.start([{ promptTokens: [1, 2, 3, 4], params: {} }, { promptTokens: [1, 2, 3, 4], params: {} }]);
    const [a, b] = engine.requests;
    a.listener.onAdmitted?.(3);
    a.listener.onAdmitted?.(9); // a recompute after preemption: the first admission counts
    b.listener.onAdmitted?.(0);
    a.listener.onToken(ev(5));
    a.listener.onFinish({ reason: 'length' });
    session.abort();
    expect(ttfts).toHaveLength(1);
    expect(ttfts[0]).toBeGreaterThanOrEqual(0.4);
    expect(session.numCachedPromptTokens).toBe(3);
    expect(ends).toEqual(['length', 'abort']);
  });

  it('merges n choices and closes after the last finish', async () => {
    const engine = new FakeEngine();
    const session = new GenerationSession(engine, [new EchoChoice(), new EchoChoice()]);
    session.start([req, req]);
    const [a, b] = engine.requests;
    a.listener.onToken(ev(5));
    b.listener.onToken(ev(6));
    a.listener.onFinish({ reason: 'length' });
    b.listener.onFinish({ reason: 'stop' });
    expect(await drain(session)).toEqual([
      { kind: 'parts', index: 0, parts: ['5'], numTokens: 1 },
      { kind: 'parts', index: 1, parts: ['6'], numTokens: 1 },
      { kind: 'parts', index: 0, parts: ['.'], numTokens: 1 },
      { kind: 'finish', index: 0, reason: 'length', numTokens: 1 },
      { kind: 'parts', index: 1, parts: ['.'], numTokens: 1 },
      { kind: 'finish', index: 1, reason: 'stop', numTokens: 1 },
    ]);
    expect(session.numCompletionTokens).toBe(2);
  });

  it('a stop string aborts that sequence and finishes the choice with stop', async () => {
    const engine = new FakeEngine();
    const session = new GenerationSession(engine, [new EchoChoice()]);
    session.start([req]);
    engine.requests[0].listener.onToken(ev(99));
    expect(engine.aborted).toEqual([0]);
    expect((await drain(session)).at(-1)).toEqual({ kind: 'finish', index: 0, reason: 'stop', numTokens: 1 });
  });

  it('a timeout is a 504 and ends the other choices', async () => {
    const engine = new FakeEngine();
    const session = new GenerationSession(engine, [new EchoChoice(), new EchoChoice()]);
    session.start([req, req]);
    engine.requests[0].listener.onFinish({ reason: 'abort', detail: 'timeout' });
    const events = await drain(session);
    expect(events).toHaveLength(1);
    expect(events[0].kind === 'error' && events[0].error.status).toBe(504);
    expect(engine.aborted).toEqual([1]);
  });

  it('passes the engine\'s error through (503 on worker failure)', async () => {
    const engine = new FakeEngine();
    const session = new GenerationSession(engine, [new EchoChoice()]);
    session.start([req]);
    engine.requests[0].listener.onFinish({ reason: 'error', error: new OpenAiError(503, 'workers died') });
    const events = await drain(session);
    expect(events[0].kind === 'error' && events[0].error.message).toBe('workers died');
  });

  it('a refused submit aborts the sequences already submitted and throws', () => {
    const engine = new FakeEngine();
    engine.refuseAfter = 1;
    const session = new GenerationSession(engine, [new EchoChoice(), new EchoChoice()]);
    expect(() => session.start([req, req])).toThrow(OpenAiError);
    expect(engine.aborted).toEqual([0]);
  });

  it('abort() (client gone) stops everything and ignores later events', async () => {
    const engine = new FakeEngine();
    const session = new GenerationSession(engine, [new EchoChoice()]);
    session.start([req]);
    session.abort();
    engine.requests[0].listener.onToken(ev(1));
    expect(await drain(session)).toEqual([]);
    expect(engine.aborted).toEqual([0]);
  });
});
