// CPU paged attention: causal prefill chunks over the cached prefix plus decode tokens, GQA.
#pragma once
#include "tpserve/attention_batch.h"
#include "tpserve/dtype.h"

namespace tpserve::cpu {
// q: [num_tokens, num_q_heads, head_dim] f32; out: same shape.
// Caches as in kv_write; this step's K/V must already be written. Query head h reads kv head
// h / (num_q_heads / num_kv_heads). scale is usually 1/sqrt(head_dim).
// batch_invariant: a query's output does not depend on the call's other queries (one kernel for
// decode tokens and prefill chunks alike; batch-1 decode of a long context is then slower).
void paged_attention(const float* q, const void* k_cache, const void* v_cache, DType cache_dtype,
                     const AttentionBatch& batch, const KvLayout& layout, int64_t num_q_heads, float scale,
                     float* out, bool batch_invariant = false);
}  // namespace tpserve::cpu
