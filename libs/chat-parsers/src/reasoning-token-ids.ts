// Reasoning state from token ids (vLLM's is_reasoning_end / extract_content_ids for Seed-OSS):
// lets the engine know, without detokenizing, whether a sequence has left its thinking block,
// e.g. to stop counting thinking tokens against the thinking budget. Tested by
// seed-reasoning-parser.spec.ts (token_cases of reasoning_parser_cases.json).

import { SEED_TOKEN_IDS } from './seed-tags';

export interface ThinkTokenIds {
  startId: number;
  endId: number;
}

const SEED_THINK_IDS: ThinkTokenIds = { startId: SEED_TOKEN_IDS.thinkStart, endId: SEED_TOKEN_IDS.thinkEnd };

/** True when the last think tag in `ids` is `</seed:think>` (a later `<seed:think>` reopens). */
export function isReasoningEnd(ids: readonly number[], tags: ThinkTokenIds = SEED_THINK_IDS): boolean {
  for (let i = ids.length - 1; i >= 0; i--) {
    if (ids[i] === tags.endId) return true;
    if (ids[i] === tags.startId) return false;
  }
  return false;
}

/**
 * The ids after the first `</seed:think>`; empty when there is none, or when it is the last id
 * (vLLM looks for it in all but the last id, so a lone trailing end tag yields no content yet).
 */
export function extractContentIds(ids: readonly number[], tags: ThinkTokenIds = SEED_THINK_IDS): number[] {
  const end = ids.indexOf(tags.endId);
  if (end < 0 || end === ids.length - 1) return [];
  return ids.slice(end + 1);
}
