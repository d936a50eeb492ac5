// CPU embedding lookup, vocab-parallel: each token's row of this rank's vocab slice in fp32, or
// zeros when the id belongs to another rank (the all-reduce sums the slices). Tests: embedding_test.cpp
#include "kernels/cpu/embedding.h"

#include <algorithm>

#include "kernels/cpu/simd.h"
#include "tpserve/thread_pool.h"

namespace tpserve::cpu {

void embedding(const Tensor& table, const int32_t* ids, int64_t num_tokens, int64_t vocab_begin, float* out) {
  TPS_CHECK(table.device().is_cpu(), "embedding: table is not on the CPU");
  TPS_CHECK(table.rank() == 2, "embedding: table must be [rows, hidden], got ", table.shape_string());
  TPS_CHECK(num_tokens >= 0, "embedding: negative token count ", num_tokens);
  if (num_tokens == 0) return;
  TPS_CHECK(ids != nullptr && out != nullptr, "embedding: null ids or out");
  const int64_t num_rows = table.dim(0), hidden = table.dim(1);
  const size_t row_bytes = static_cast<size_t>(hidden) * dtype_size(table.dtype());
  const VecOps& ops = vec_ops();
  // out: [num_tokens, hidden] f32
  default_pool().parallel_for(
      num_tokens,
      [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; t++) {
          const int64_t row = static_cast<int64_t>(ids[t]) - vocab_begin;
          float* dst = out + t * hidden;
          if (row >= 0 && row < num_rows) {
            ops.to_f32(static_cast<const char*>(table.data()) + static_cast<size_t>(row) * row_bytes, table.dtype(),
                       dst, hidden);
          } else {  // another rank's slice
            std::fill(dst, dst + hidden, 0.f);
          }
        }
      },
      std::max<int64_t>(1, 65536 / std::max<int64_t>(1, hidden)));
}

}  // namespace tpserve::cpu
