// StepTrace (`--step-trace <file>`): one JSON line per applied step, to find the steps the
// workers waited for and why: what the step held (decodes, prefill tokens, admissions, forgets),
// why it was sent when it was (StepSendCause), the workers' wait before it, how long after the
// latest reply it was sent, and what the coordinator's event loop went through meanwhile (GC
// time, the longest event-loop delay). Off by default; a diagnostic, not a metric.
import * as fs from 'node:fs';
import { type IntervalHistogram, PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import type { SentStep, StepTiming } from './sent-step-pipeline';

export interface StepTraceLine {
  stepId: number;
  cause: string;
  /** The workers' wait before it (ms); null when the engine had been idle. */
  waitMs: number | null;
  stepMs: number;
  /** ms between the latest reply received before it and its send. */
  sinceReplyMs: number;
  numDecodes: number;
  numPrefillTokens: number;
  numNewRequests: number;
  numForgets: number;
  /** GC pause time in the coordinator since the previous line (ms). */
  gcMs: number;
  /** Longest event-loop delay since the previous line (ms). */
  loopDelayMaxMs: number;
}

export class StepTrace {
  private readonly out: fs.WriteStream;
  private readonly gc: PerformanceObserver;
  private readonly loopDelay: IntervalHistogram;
  private gcMs = 0;

  constructor(file: string) {
    this.out = fs.createWriteStream(file, { flags: 'a' });
    this.out.on('error', () => undefined); // a diagnostic never fails the engine
    this.gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.gcMs += e.duration;
    });
    this.gc.observe({ entryTypes: ['gc'] });
    this.loopDelay = monitorEventLoopDelay({ resolution: 1 });
    this.loopDelay.enable();
  }

  /** The line of one applied step (also what record() writes). */
  line(step: SentStep, timing: StepTiming): StepTraceLine {
    const r3 = (x: number): number => Math.round(x * 1000) / 1000;
    let numDecodes = 0;
    let numPrefillTokens = 0;
    for (const e of step.out.scheduled) {
      if (e.tokens.length === 1) numDecodes++; // (a one-token prefill chunk counts as one too)
      else numPrefillTokens += e.tokens.length;
    }
    const line: StepTraceLine = {
      stepId: step.out.stepId,
      cause: step.cause,
      waitMs: timing.waitSeconds === undefined ? null : r3(timing.waitSeconds * 1000),
      stepMs: r3(timing.seconds * 1000),
      sinceReplyMs: r3(step.sinceReplyMs),
      numDecodes,
      numPrefillTokens,
      numNewRequests: step.out.newRequests.length,
      numForgets: step.out.finishedIds.length,
      gcMs: r3(this.gcMs),
      loopDelayMaxMs: r3(this.loopDelay.max / 1e6),
    };
    this.gcMs = 0;
    this.loopDelay.reset();
    return line;
  }

  record(step: SentStep, timing: StepTiming): void {
    this.out.write(JSON.stringify(this.line(step, timing)) + '\n');
  }

  close(): void {
    this.gc.disconnect();
    this.loopDelay.disable();
    this.out.end();
  }
}
