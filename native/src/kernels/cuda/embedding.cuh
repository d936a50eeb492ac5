// CUDA embedding lookup, vocab-parallel (twin of kernels/cpu/embedding.h): rows outside this
// rank's slice give zeros (summed later by an all-reduce across ranks).
#pragma once
#include "tpserve/tensor.h"

namespace tpserve::cuda {
// table: [num_rows, hidden] (f32/f16/bf16) on the GPU, vocab rows [vocab_begin, vocab_begin + num_rows)
// ids: [num_tokens] device int32; out: [num_tokens, hidden] f32 device
void embedding(const Tensor& table, const int32_t* ids, int64_t num_tokens, int64_t vocab_begin, float* out);
}  // namespace tpserve::cuda
