// The worker processes of a running server (its children running the worker entry point),
// for fault injection (kill -9, SIGSTOP) and for the "no process left behind" checks.
import * as fs from 'node:fs';

/**
 * Pids of the worker processes (children running apps/worker) of the process `parentPid`. Only
 * those: the coordinator also runs short-lived children of its own (the prompt pool's `chrt` at
 * start-up), which a bare `ps --ppid` listing counted as a worker once in CI.
 */
export function childPids(parentPid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === parentPid && cmdline.includes('apps/worker/src/main.js')) pids.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return pids;
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
