// Worker addresses: `tpserve serve --workers h1:p1,h2:p2,...` (rank order = list order) or
// `--workers lws` (from LeaderWorkerSet's pod variables), and which hosts count as loopback (where plaintext gRPC is allowed without --worker-insecure).
import { isIP } from 'node:net';

/** Parses "host:port" or "[v6]:port"; throws naming the entry. */
export function parseWorkerAddress(entry: string): { host: string; port: number } {
  const text = entry.trim();
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s[\]]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`worker address '${entry}' is not host:port (port 1-65535; IPv6 as [addr]:port)`);
  }
  return { host: m[1], port };
}

/**
 * The ranks of a LeaderWorkerSet group, from the variables LWS sets in every pod: rank 0 is the
 * leader pod's own worker container (127.0.0.1), rank i the worker pod `<leader>-<i>` under the
 * group's headless service: LWS_LEADER_ADDRESS = <lws>-<group>.<lws>.<namespace>[...].
 */
export function workersFromLeaderWorkerSet(env: NodeJS.ProcessEnv, port: number): string[] {
  const leader = env.LWS_LEADER_ADDRESS;
  const size = Number(env.LWS_GROUP_SIZE);
  if (!leader || !Number.isInteger(size) || size < 1) {
    throw new Error('--workers lws needs LWS_LEADER_ADDRESS and LWS_GROUP_SIZE (set by LeaderWorkerSet in its pods)');
  }
  const dot = leader.indexOf('.');
  const [pod, domain] = dot < 0 ? [leader, ''] : [leader.slice(0, dot), leader.slice(dot)];
  return [`127.0.0.1:${port}`, ...Array.from({ length: size - 1 }, (_, i) => `${pod}-${i + 1}${domain}:${port}`)];
}

/**
 * A comma-separated list of worker addresses, or `lws[:PORT]` (the ranks of this LeaderWorkerSet
 * group, port 50051 by default); throws on an empty list or a bad entry.
 */
export function parseWorkerAddresses(list: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const lws = /^lws(?::(\d+))?$/.exec(list.trim());
  if (lws) return workersFromLeaderWorkerSet(env, lws[1] ? parseWorkerAddress(`lws:${lws[1]}`).port : 50051);
  const entries = list.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length === 0) throw new Error('the worker list is empty (expected host:port,host:port,...)');
  for (const e of entries) parseWorkerAddress(e);
  const dup = entries.find((e, i) => entries.indexOf(e) !== i);
  if (dup) throw new Error(`worker address '${dup}' appears twice (one rank per address)`);
  return entries;
}

/** localhost, 127.0.0.0/8 and ::1: traffic that never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

export function hostOf(address: string): string {
  return parseWorkerAddress(address).host;
}
