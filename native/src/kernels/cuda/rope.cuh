// CUDA rotary position embedding, rotate-half (NeoX) layout (twin of kernels/cpu/rope.h), and
// the fused variant that rotates q and k and writes k and v into the paged cache in one pass.
#pragma once
#include <cstdint>

#include "tpserve/attention_batch.h"
#include "tpserve/dtype.h"

namespace tpserve::cuda {
// x: [num_tokens, num_heads, head_dim] f32 device, rotated in place over the full head_dim.
// cos, sin: [num_tokens, head_dim / 2] f32 device, for each token's position.
void rope(float* x, const float* cos, const float* sin, int64_t num_tokens, int64_t num_heads, int64_t head_dim);

// rope(q), rope(k), then kv_write(k, v) (kv_write.cuh) in one kernel; q and k are rotated in
// place as by the unfused ops. The CPU twin is that sequence of cpu:: ops.
// q: [num_tokens, num_q_heads, head_dim]; k, v: [num_tokens, layout.num_kv_heads, head_dim];
// head_dim = layout.head_dim; slots, caches as in kv_write (negative or past-the-cache slots skipped).
void rope_kv_write(float* q, float* k, const float* v, const float* cos, const float* sin, const int32_t* slots,
                   int64_t num_tokens, int64_t num_q_heads, const KvLayout& layout, void* k_cache, void* v_cache,
                   DType cache_dtype);
}  // namespace tpserve::cuda
