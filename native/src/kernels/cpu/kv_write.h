// CPU paged KV write: stores each token's K and V rows into its cache slot.
#pragma once
#include "tpserve/attention_batch.h"
#include "tpserve/dtype.h"

namespace tpserve::cpu {
// k, v: [num_tokens, num_kv_heads, head_dim] f32
// slots: [num_tokens], slot = block_id * block_size + offset_in_block
// k_cache, v_cache: [num_blocks, num_kv_heads, block_size, head_dim] of cache_dtype (f32/bf16/f16)
void kv_write(const float* k, const float* v, const int32_t* slots, int64_t num_tokens, const KvLayout& layout,
              void* k_cache, void* v_cache, DType cache_dtype);
}  // namespace tpserve::cpu
