// Stop conditions checked after each sampled token (vLLM's check_stop), in this order:
// EOS (unless ignoreEos) and stop token ids, both held back until minTokens outputs exist;
// then maxTokens and maxModelLen. A stop token that is also the last allowed one reports 'stop'.

import type { Request } from './request';

export interface StopDecision {
  reason: 'stop' | 'length';
  stopTokenId?: number;
}

/** Whether `req` ends after its newest output token; null to keep generating. */
export function checkStop(
  req: Request<unknown>,
  eosTokenIds: readonly number[],
  maxModelLen: number,
): StopDecision | null {
  const last = req.outputTokens[req.outputTokens.length - 1];
  if (last !== undefined && req.numOutputTokens >= req.minTokens) {
    if ((!req.ignoreEos && eosTokenIds.includes(last)) || req.stopTokenIds.includes(last)) {
      return { reason: 'stop', stopTokenId: last };
    }
  }
  if (req.numOutputTokens >= req.maxTokens || req.numTokens >= maxModelLen) return { reason: 'length' };
  return null;
}
