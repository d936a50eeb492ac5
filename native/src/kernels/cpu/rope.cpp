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

namespace {

// A decode step's cache rows and table rows are cold (the GEMV before streamed megabytes through
// the caches): ask for them first so the misses overlap the rotation instead of following it.
void prefetch_decode_rows(const float* cos_table, const float* sin_table, const int32_t* positions,
                          const int32_t* slots, int64_t num_tokens, const KvLayout& layout, void* k_cache,
                          void* v_cache, DType cache_dtype) {
  constexpr int64_t kMaxTokens = 4;
  if (num_tokens > kMaxTokens || !positions || !slots || !k_cache || !v_cache) return;
  const int64_t H = layout.num_kv_heads, bs = layout.block_size, D = layout.head_dim, half = D / 2;
  const int64_t row_bytes = D * static_cast<int64_t>(dtype_size(cache_dtype));
  for (int64_t t = 0; t < num_tokens; t++) {
    for (int64_t b = 0; b < half * 4; b += 64) {
      __builtin_prefetch(reinterpret_cast<const char*>(cos_table + positions[t] * half) + b, 0, 3);
      __builtin_prefetch(reinterpret_cast<const char*>(sin_table + positions[t] * half) + b, 0, 3);
    }
    if (slots[t] < 0 || slots[t] >= layout.num_blocks * bs) continue;  // padding; kv_write checks the rest
    const int64_t block = slots[t] / bs, off = slots[t] % bs;
    for (int64_t h = 0; h < H; h++) {
      const int64_t byte = ((block * H + h) * bs + off) * row_bytes;
      for (int64_t b = 0; b < row_bytes; b += 64) {
        __builtin_prefetch(static_cast<char*>(k_cache) + byte + b, 1, 3);
        __builtin_prefetch(static_cast<char*>(v_cache) + byte + b, 1, 3);
      }
    }
  }
}

}  // namespace

void rope_kv_write(float* q, float* k, const float* v, const float* cos_table, const float* sin_table,
                   const int32_t* positions, const int32_t* slots, int64_t num_tokens, int64_t num_q_heads,
                   const KvLayout& layout, void* k_cache, void* v_cache, DType cache_dtype) {
  if (layout.head_dim > 0 && layout.block_size > 0)  // (prefetches never fault: no other check needed)
    prefetch_decode_rows(cos_table, sin_table, positions, slots, num_tokens, layout, k_cache, v_cache, cache_dtype);
  rope(q, cos_table, sin_table, positions, num_tokens, num_q_heads, layout.head_dim);
  rope(k, cos_table, sin_table, positions, num_tokens, layout.num_kv_heads, layout.head_dim);
  kv_write(k, v, slots, num_tokens, layout, k_cache, v_cache, cache_dtype);
}

}  // namespace tpserve::cpu
