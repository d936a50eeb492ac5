// ForwardBatch: the host-side description of one forward pass over the flattened tokens of
// several sequences (prefill chunks and decode tokens mixed), built by the engine each step.
#pragma once
#include <cstdint>
#include <vector>

namespace tpserve {

struct ForwardBatch {
  std::vector<int32_t> token_ids;     // [T]
  std::vector<int32_t> positions;     // [T]
  std::vector<int32_t> slots;         // [T] block_id * block_size + offset of each token's KV
  std::vector<int32_t> query_start;   // [S + 1] row of each sequence's first token
  std::vector<int32_t> context_lens;  // [S] cached tokens after this step
  std::vector<int32_t> block_tables;  // [S, max_blocks_per_seq] (unused entries 0)
  int64_t max_blocks_per_seq = 0;
  std::vector<int32_t> logits_rows;   // rows of T whose logits are wanted, in output order

  int64_t num_tokens() const { return static_cast<int64_t>(token_ids.size()); }
  int64_t num_seqs() const { return static_cast<int64_t>(context_lens.size()); }
};

}  // namespace tpserve
