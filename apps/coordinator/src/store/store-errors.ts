// The OpenAI-shaped errors of the control plane: a missing or wrong key (401), the store out of
// reach (503 store_unavailable: auth fails closed, the client retries).
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { StoreUnavailableError } from '../../../../libs/store/src/store';

export function invalidApiKey(hasKey: boolean): OpenAiError {
  const message = hasKey
    ? 'Incorrect API key provided. You can create keys with `tpserve keys create`.'
    : "You didn't provide an API key. Send it as `Authorization: Bearer KEY`.";
  return new OpenAiError(401, message, null, 'invalid_api_key', { headers: { 'WWW-Authenticate': 'Bearer' } });
}

export function storeUnavailable(): OpenAiError {
  return new OpenAiError(503, 'The API key and rate-limit store is unavailable; retry shortly.', null, 'store_unavailable', { headers: { 'Retry-After': '1' } });
}

/** Runs a store call; an outage becomes the 503 a client can retry. */
export async function orUnavailable<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw err instanceof StoreUnavailableError ? storeUnavailable() : err;
  }
}
