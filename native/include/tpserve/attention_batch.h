// AttentionBatch: how the flattened tokens of one step map onto sequences and KV blocks.
// Token t of sequence s sits at row query_start[s] + j of q and has position
// context_lens[s] - (query_start[s+1] - query_start[s]) + j; it attends to positions [0, pos].
#pragma once
#include <cstdint>

#include "tpserve/error.h"

namespace tpserve {

struct AttentionBatch {
  int64_t num_seqs = 0;
  const int32_t* query_start = nullptr;   // [num_seqs + 1]
  const int32_t* context_lens = nullptr;  // [num_seqs] cached tokens after this step's kv_write
  const int32_t* block_tables = nullptr;  // [num_seqs, max_blocks_per_seq] KV block ids
  int64_t max_blocks_per_seq = 0;
  // Host hint: the longest query chunk of the batch (1 for a decode-only step), -1 when unknown.
  // Backends may skip work with it (the CUDA launcher skips the prefill kernel at 1).
  int64_t max_query_len = -1;
};

// Paged KV cache geometry of one layer: K and V each [num_blocks, num_kv_heads, block_size, head_dim].
struct KvLayout {
  int64_t num_blocks = 0;
  int64_t num_kv_heads = 0;
  int64_t block_size = 16;
  int64_t head_dim = 0;
};

// The argument checks both kv_write twins (CPU and CUDA) run before touching memory; returns
// false when there is nothing to write.
inline bool check_kv_write_args(const void* k, const void* v, const void* slots, int64_t num_tokens,
                                const KvLayout& layout, const void* k_cache, const void* v_cache) {
  TPS_CHECK(num_tokens >= 0, "kv_write: negative token count ", num_tokens);
  TPS_CHECK(layout.num_kv_heads > 0 && layout.block_size > 0 && layout.head_dim > 0 && layout.num_blocks >= 0,
            "kv_write: bad cache layout");
  if (num_tokens == 0) return false;
  TPS_CHECK(k && v && slots && k_cache && v_cache, "kv_write: null pointer");
  return true;
}

}  // namespace tpserve
