// An API key as the store holds it: never the key itself, only its sha256. Keys are shown once,
// at creation (`tpserve keys create`). newApiKey makes one; hashApiKey is how both the CLI and
// the auth guard turn a presented key into the stored hash.
import { createHash, randomBytes } from 'node:crypto';

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** sha256 of the key, hex. */
  hash: string;
  /** Requests per minute (0: unlimited). */
  rpm: number;
  /** Tokens per minute, prompt + completion (0: unlimited). */
  tpm: number;
  createdAtMs: number;
  lastUsedAtMs?: number;
}

export const API_KEY_PREFIX = 'tps-';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A fresh key (256 random bits) and its record; the key is returned once and never stored. */
export function newApiKey(name: string, limits: { rpm: number; tpm: number }, nowMs = Date.now()): { key: string; record: ApiKeyRecord } {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  const id = 'key_' + randomBytes(8).toString('hex');
  return { key, record: { id, name, hash: hashApiKey(key), rpm: limits.rpm, tpm: limits.tpm, createdAtMs: nowMs } };
}
