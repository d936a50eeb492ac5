// CPU rotary position embedding, rotate-half (NeoX) layout, applied in place; and the fused
// rope + paged KV write the decoder calls (twin of cuda::rope_kv_write).
#pragma once
#include <cstdint>

#include "tpserve/attention_batch.h"
#include "tpserve/dtype.h"

namespace tpserve::cpu {
// x: [num_tokens, num_heads, head_dim] f32, rotated in place over the full head_dim.
// cos_table, sin_table: [num_positions, head_dim / 2] f32, row p for position p (the model's
// RopeTable, computed once in double precision); positions: [num_tokens], each < num_positions.
void rope(float* x, const float* cos_table, const float* sin_table, const int32_t* positions, int64_t num_tokens,
          int64_t num_heads, int64_t head_dim);

// rope(q), rope(k), then kv_write(k, v) (kv_write.h); q and k stay rotated in place.
// q: [num_tokens, num_q_heads, head_dim]; k, v: [num_tokens, layout.num_kv_heads, head_dim] with
// head_dim = layout.head_dim; tables and positions as in rope; slots and caches as in kv_write.
void rope_kv_write(float* q, float* k, const float* v, const float* cos_table, const float* sin_table,
                   const int32_t* positions, const int32_t* slots, int64_t num_tokens, int64_t num_q_heads,
                   const KvLayout& layout, void* k_cache, void* v_cache, DType cache_dtype);
}  // namespace tpserve::cpu
