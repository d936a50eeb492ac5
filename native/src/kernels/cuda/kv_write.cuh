// CUDA paged KV write (twin of kernels/cpu/kv_write.h): each token's K and V rows go to their
// cache slot, converted to the cache dtype.
#pragma once
#include "tpserve/attention_batch.h"
#include "tpserve/dtype.h"

namespace tpserve::cuda {
// k, v: [num_tokens, num_kv_heads, head_dim] f32 device
// slots: [num_tokens] device, slot = block_id * block_size + offset_in_block; negative = padding.
//   The CPU twin throws on a slot past the cache; here slots cannot be read on the host, so such
//   a slot is skipped like padding (never written out of bounds).
// k_cache, v_cache: [num_blocks, num_kv_heads, block_size, head_dim] of cache_dtype (f32/bf16/f16)
void kv_write(const float* k, const float* v, const int32_t* slots, int64_t num_tokens, const KvLayout& layout,
              void* k_cache, void* v_cache, DType cache_dtype);
}  // namespace tpserve::cuda
