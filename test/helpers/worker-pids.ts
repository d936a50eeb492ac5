// The worker processes of a running server: its child processes (ps --ppid), for fault
// injection (kill -9, SIGSTOP) and for the "no process left behind" checks.
import { execFileSync } from 'node:child_process';

export function childPids(parentPid: number): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(parentPid)]).toString();
    return out.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there is none
  }
}

/** Polls until `parentPid` has `n` children other than `exclude`, or the timeout passes. */
export async function waitForChildren(parentPid: number, n: number, exclude: number[] = [], timeoutMs = 60_000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const pids = childPids(parentPid).filter((p) => !exclude.includes(p));
    if (pids.length === n || Date.now() > until) return pids;
    await new Promise((r) => setTimeout(r, 100));
  }
}
