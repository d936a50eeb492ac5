// CPU rotary position embedding, rotate-half (NeoX) layout, in place:
//   x1' = x1 cos - x2 sin, x2' = x2 cos + x1 sin, with x1 / x2 the first / second half of a head,
// cos / sin read from the table row of each token's position; and rope + kv_write in one call.
// Tests: rope_test.cpp
#include "kernels/cpu/rope.h"

#include <algorithm>

#include "kernels/cpu/kv_write.h"
#include "tpserve/error.h"
#include "tpserve/thread_pool.h"

namespace tpserve::cpu {
namespace {

__attribute__((target_clones("avx512f", "avx2", "default"))) void rotate_token(float* x, const float* cos,
                                                                                 const float* sin, int64_t num_heads,
                                                                                 int64_t head_dim) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < num_heads; h++) {
    float* x1 = x + h * head_dim;
    float* x2 = x1 + half;
    for (int64_t i = 0; i < half; i++) {
      const float a = x1[i], b = x2[i];
      x1[i] = a * cos[i] - b * sin[i];
      x2[i] = b * cos[i] + a * sin[i];
    }
  }
}

}  // namespace

void rope(float* x, const float* cos_table, const float* sin_table, const int32_t* positions, int64_t num_tokens,
          int64_t num_heads, int64_t head_dim) {
  TPS_CHECK(head_dim > 0 && head_dim % 2 == 0, "rope: head_dim must be even and positive, got ", head_dim);
  TPS_CHECK(num_tokens >= 0 && num_heads >= 0, "rope: negative shape");
  if (num_tokens == 0 || num_heads == 0) return;
  TPS_CHECK(x != nullptr && cos_table != nullptr && sin_table != nullptr && positions != nullptr, "rope: null pointer");
  const int64_t half = head_dim / 2;
  // x: [num_tokens, num_heads, head_dim]; tables: [num_positions, half]
  default_pool().parallel_for(
      num_tokens,
      [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; t++) {
          const int64_t row = static_cast<int64_t>(positions[t]) * half;
          rotate_token(x + t * num_heads * head_dim, cos_table + row, sin_table + row, num_heads, head_dim);
        }
      },
      std::max<int64_t>(1, 16384 / (num_heads * head_dim)));
}

void rope_kv_write(float* q, float* k, const float* v, const float* cos_table, const float* sin_table,
                   const int32_t* positions, const int32_t* slots, int64_t num_tokens, int64_t num_q_heads,
                   const KvLayout& layout, void* k_cache, void* v_cache, DType cache_dtype) {
  rope(q, cos_table, sin_table, positions, num_tokens, num_q_heads, layout.head_dim);
  rope(k, cos_table, sin_table, positions, num_tokens, layout.num_kv_heads, layout.head_dim);
  kv_write(k, v, slots, num_tokens, layout, k_cache, v_cache, cache_dtype);
}

}  // namespace tpserve::cpu
