// Every Redis key tpserve uses, under the `tpserve:` namespace (one Redis can serve other apps).
// Window counters expire two windows after their start (a late correction still finds them);
// usage records after USAGE_TTL_MS; API keys live until revoked.
import { RATE_WINDOW_MS } from './rate-window';

export const NAMESPACE = 'tpserve:';
export const WINDOW_TTL_MS = 2 * RATE_WINDOW_MS;

export const redisKeys = {
  apiKey: (id: string): string => `${NAMESPACE}apikey:${id}`,
  apiKeyByHash: (hash: string): string => `${NAMESPACE}apikey-hash:${hash}`,
  apiKeyIds: (): string => `${NAMESPACE}apikeys`,
  rateWindow: (keyId: string, windowStartMs: number): string => `${NAMESPACE}ratelimit:${keyId}:${windowStartMs}`,
  usage: (member: string): string => `${NAMESPACE}usage:${member}`,
  usageIndex: (): string => `${NAMESPACE}usage-index`,
};

/** A usage record's member in the index (score: its hour): JSON, since model ids may hold ':'. */
export function usageMember(keyId: string, model: string, hourStartMs: number): string {
  return JSON.stringify([keyId, model, hourStartMs]);
}

export function parseUsageMember(member: string): { keyId: string; model: string; hourStartMs: number } {
  const [keyId, model, hourStartMs] = JSON.parse(member) as [string, string, number];
  return { keyId, model, hourStartMs };
}

/** The URL without its password, for log lines. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable Redis URL)';
  }
}
