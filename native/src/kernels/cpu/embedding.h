// CPU embedding lookup, vocab-parallel: rows outside this rank's slice give zeros (summed later
// by an all-reduce across ranks).
#pragma once
#include "tpserve/tensor.h"

namespace tpserve::cpu {
// table: [num_rows, hidden] (f32/f16/bf16), this rank's vocab rows [vocab_begin, vocab_begin + num_rows)
// ids: [num_tokens]; out: [num_tokens, hidden] f32
void embedding(const Tensor& table, const int32_t* ids, int64_t num_tokens, int64_t vocab_begin, float* out);
}  // namespace tpserve::cpu
