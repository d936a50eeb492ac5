// CPU decode attention: one query token of one sequence against its whole cached context, the
// query heads of one kv head together (GQA), reading each K and V row of the cache once.
#pragma once
#include <cstdint>

#include "tpserve/attention_batch.h"
#include "tpserve/dtype.h"

namespace tpserve::cpu {
// q, out: the group's query heads, [group, head_dim] f32, contiguous. block_table: the sequence's
// block ids; ctx: its cached tokens (all visible to the query). Caches as in kv_write.
void decode_attention_group(const float* q, const void* k_cache, const void* v_cache, DType cache_dtype,
                            const int32_t* block_table, int64_t ctx, int64_t kv_head, const KvLayout& layout,
                            int64_t group, float scale, float* out);
}  // namespace tpserve::cpu
