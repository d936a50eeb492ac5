// SequenceState: what a rank remembers about one sequence between steps: its KV block table,
// how many tokens are cached, its sampling parameters, the penalty history and its last sampled token.
#pragma once
#include <cstdint>
#include <map>
#include <vector>

#include "tpserve/sampling.h"

namespace tpserve {

struct SequenceState {
  SamplingParams params;
  int64_t num_prompt_tokens = 0;
  int64_t num_cached = 0;           // positions [0, num_cached) are in the KV cache
  std::vector<int32_t> block_table;
  // Penalty history: token → (times generated, occurs in prompt).
  std::map<int32_t, std::pair<int32_t, bool>> history;
  int64_t num_registered = 0;       // positions whose tokens are in `history`
  // The last token sampled for this sequence and its position (-1: none known on this rank):
  // what a placeholder of the next pipelined step stands for (placeholder_tokens.h).
  int64_t sampled_pos = -1;
  int32_t sampled_token = -1;

  // Records the token at `position` (prompt or output) unless already recorded.
  void register_token(int64_t position, int32_t token) {
    if (position < num_registered) return;
    auto& entry = history[token];
    if (position < num_prompt_tokens) entry.second = true;
    else entry.first++;
    num_registered = position + 1;
  }
};

}  // namespace tpserve
