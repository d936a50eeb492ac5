// An ApiKeyRecord as the fields of its Redis hash (strings) and back.
import type { ApiKeyRecord } from './api-key-record';

export function redisApiKeyFields(record: ApiKeyRecord): Record<string, string> {
  const fields: Record<string, string> = {
    id: record.id, name: record.name, hash: record.hash, rpm: String(record.rpm), tpm: String(record.tpm), createdAtMs: String(record.createdAtMs),
  };
  if (record.lastUsedAtMs !== undefined) fields.lastUsedAtMs = String(record.lastUsedAtMs);
  return fields;
}

/** undefined for a missing (or half-written) hash. */
export function redisApiKeyRecord(fields: Record<string, string>): ApiKeyRecord | undefined {
  if (fields.id === undefined || fields.hash === undefined) return undefined;
  return {
    id: fields.id,
    name: fields.name ?? '',
    hash: fields.hash,
    rpm: Number(fields.rpm ?? 0),
    tpm: Number(fields.tpm ?? 0),
    createdAtMs: Number(fields.createdAtMs ?? 0),
    ...(fields.lastUsedAtMs === undefined ? {} : { lastUsedAtMs: Number(fields.lastUsedAtMs) }),
  };
}
