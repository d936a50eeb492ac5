// CUDA rotary position embedding fused with the paged KV write (twin of cpu::rope_kv_write,
// kernels/cpu/rope.h): rotates q and k (rotate-half, NeoX layout) and writes k and v into the
// paged cache in one pass.
#pragma once
#include <cstdint>

#include "tpserve/attention_batch.h"
#include "tpserve/dtype.h"

namespace tpserve::cuda {
// q: [num_tokens, num_q_heads, head_dim]; k, v: [num_tokens, layout.num_kv_heads, head_dim]
// f32 device, head_dim = layout.head_dim; q and k are rotated in place as by cpu::rope.
// cos_table, sin_table: [num_positions, head_dim / 2] f32 device (the model's RopeTable), row p
// for position p; positions, slots: [num_tokens] int32 device (positions < num_positions; slots
// as in kv_write: negative or past-the-cache slots are skipped).
void rope_kv_write(float* q, float* k, const float* v, const float* cos_table, const float* sin_table,
                   const int32_t* positions, const int32_t* slots, int64_t num_tokens, int64_t num_q_heads,
                   const KvLayout& layout, void* k_cache, void* v_cache, DType cache_dtype);
}  // namespace tpserve::cuda
