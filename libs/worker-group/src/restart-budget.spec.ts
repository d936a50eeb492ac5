import { describe, expect, it } from 'vitest';
import { parseRestartBudget, RestartBudget } from './restart-budget';

describe('RestartBudget', () => {
  it('allows maxRestarts in any sliding window', () => {
    const b = new RestartBudget({ maxRestarts: 2, windowMs: 1000 });
    expect(b.tryTake(0)).toBe(true);
    expect(b.tryTake(500)).toBe(true);
    expect(b.tryTake(900)).toBe(false); // 2 within [0, 1000)
    expect(b.numUsed(900)).toBe(2);
    expect(b.tryTake(1000)).toBe(true); // the one at 0 left the window
    expect(b.tryTake(1400)).toBe(false);
    expect(b.numUsed(2500)).toBe(0);
  });

  it('with 0 restarts never allows one', () => {
    expect(new RestartBudget({ maxRestarts: 0, windowMs: 1000 }).tryTake(0)).toBe(false);
  });

  it.each([
    ['5/600', { maxRestarts: 5, windowMs: 600_000 }],
    ['3/60s', { maxRestarts: 3, windowMs: 60_000 }],
    ['0', { maxRestarts: 0, windowMs: 600_000 }],
  ])('parses %s', (text, spec) => expect(parseRestartBudget(text)).toEqual(spec));

  it.each(['', 'five', '5/0', '-1/60', '5/60/1', '5000/60'])('rejects %j', (text) => {
    expect(() => parseRestartBudget(text)).toThrow(/restarts|RESTARTS/);
  });
});
