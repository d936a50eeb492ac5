// RestartBudget: at most `maxRestarts` worker-group restarts in any sliding window of
// `windowMs`. Past it the server stops trying (endless crashes become a failing /health, so
// the orchestrator replaces the pod). Pure; tests: restart-budget.spec.ts.

export interface RestartBudgetSpec {
  maxRestarts: number;
  windowMs: number;
}

/** Parses "5/600" (5 restarts per 600 s) or "0" (never restart); throws naming the problem. */
export function parseRestartBudget(text: string): RestartBudgetSpec {
  const m = /^\s*(\d+)\s*(?:\/\s*(\d+)\s*s?)?\s*$/.exec(text);
  if (!m) throw new Error(`must be RESTARTS/SECONDS (e.g. 5/600) or 0, got '${text}'`);
  const maxRestarts = Number(m[1]);
  const seconds = m[2] === undefined ? 600 : Number(m[2]);
  if (maxRestarts > 1000 || seconds < 1 || seconds > 86_400) throw new Error(`must have at most 1000 restarts in 1 to 86400 seconds, got '${text}'`);
  return { maxRestarts, windowMs: seconds * 1000 };
}

export class RestartBudget {
  private readonly times: number[] = [];

  constructor(readonly spec: RestartBudgetSpec) {}

  /** Restarts within the window ending at `now`. */
  numUsed(now: number): number {
    this.expire(now);
    return this.times.length;
  }

  /** Takes one restart at `now`; false (and takes nothing) when the budget is spent. */
  tryTake(now: number): boolean {
    this.expire(now);
    if (this.times.length >= this.spec.maxRestarts) return false;
    this.times.push(now);
    return true;
  }

  describe(): string {
    return `${this.spec.maxRestarts} restarts in ${this.spec.windowMs / 1000} s`;
  }

  private expire(now: number): void {
    while (this.times.length > 0 && now - this.times[0] >= this.spec.windowMs) this.times.shift();
  }
}
