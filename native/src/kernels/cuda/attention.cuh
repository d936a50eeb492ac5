// CUDA paged attention (twin of kernels/cpu/attention.h): causal prefill chunks over the cached
// prefix plus decode tokens, GQA, on the paged KV cache written by kv_write / rope_kv_write.
#pragma once
#include "tpserve/attention_batch.h"
#include "tpserve/dtype.h"

namespace tpserve::cuda {
// q: [num_tokens, num_q_heads, head_dim] f32 device; out: same shape (must not alias q).
// batch: query_start / context_lens / block_tables are device pointers; num_seqs,
// max_blocks_per_seq and max_query_len host values. max_query_len (-1: unknown) lets the
// launcher skip the prefill kernel of a decode-only step (1); contexts must fit in
// max_blocks_per_seq * block_size (the decode split-K is sized from that bound).
// Caches as in kv_write. scale is usually 1/sqrt(head_dim).
// The block ids are not range-checked here (they live on the device): the coordinator's tables
// must be valid, as for kv_write's slots.
void paged_attention(const float* q, const void* k_cache, const void* v_cache, DType cache_dtype,
                     const AttentionBatch& batch, const KvLayout& layout, int64_t num_q_heads, float scale,
                     float* out);

// Allocates now the split-K scratch of decode attention on the current stream: one size serves
// every batch of this head_dim, so no later call reallocates it (call before a graph capture).
void reserve_attention_scratch(int64_t head_dim);

}  // namespace tpserve::cuda
