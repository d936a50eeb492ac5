// Splits the output rows of a CPU kernel over the default thread pool (used by linear and the
// quantized linear kernels).
#pragma once
#include <cstdint>

#include "tpserve/function_ref.h"

namespace tpserve::cpu {
// Splits [0, n) over the pool in multiples of `align` rows, each chunk worth >= ~1e5 flops
// (work_per_row flops per row); chunks are handed out dynamically, long ones first, short ones
// last. For compute-bound kernels (the prefill GEMMs).
void for_row_ranges(int64_t n, int64_t align, double work_per_row, FunctionRef<void(int64_t, int64_t)> fn);

// Splits [0, n) into one contiguous range per thread, in multiples of `align` rows, each worth
// >= ~1e5 flops (fewer threads when there is less). For the weight-streaming GEMVs of decode.
void for_row_stripes(int64_t n, int64_t align, double work_per_row, FunctionRef<void(int64_t, int64_t)> fn);
}  // namespace tpserve::cpu
