// CPU paged KV write: each token's K and V rows go to slot (block_id * block_size + offset) of the
// cache, converted to the cache dtype (bf16/f16 round to nearest even). Negative slots are padding
// and skipped. Tests: kv_write_test.cpp
#include "kernels/cpu/kv_write.h"

#include <cstring>

#include "tpserve/error.h"
#include "tpserve/thread_pool.h"

namespace tpserve::cpu {
namespace {

void store_row(const float* src, void* cache, DType dtype, int64_t offset, int64_t n) {
  switch (dtype) {
    case DType::F32: std::memcpy(static_cast<float*>(cache) + offset, src, static_cast<size_t>(n) * 4); return;
    case DType::BF16: {
      uint16_t* dst = static_cast<uint16_t*>(cache) + offset;
      for (int64_t i = 0; i < n; i++) dst[i] = float_to_bf16(src[i]);
      return;
    }
    case DType::F16: {
      uint16_t* dst = static_cast<uint16_t*>(cache) + offset;
      for (int64_t i = 0; i < n; i++) dst[i] = float_to_f16(src[i]);
      return;
    }
    default: TPS_THROW("kv_write: ", dtype_name(dtype), " is not a KV cache dtype");
  }
}

}  // namespace

void kv_write(const float* k, const float* v, const int32_t* slots, int64_t num_tokens, const KvLayout& layout,
              void* k_cache, void* v_cache, DType cache_dtype) {
  if (!check_kv_write_args(k, v, slots, num_tokens, layout, k_cache, v_cache)) return;
  const int64_t H = layout.num_kv_heads, bs = layout.block_size, D = layout.head_dim;
  const int64_t num_slots = layout.num_blocks * bs;
  for (int64_t t = 0; t < num_tokens; t++)
    TPS_CHECK(slots[t] < num_slots, "kv_write: slot ", slots[t], " of token ", t, " is past the cache (", num_slots,
              " slots)");
  // k, v: [num_tokens, H, D]; caches: [num_blocks, H, bs, D]
  default_pool().parallel_for(
      num_tokens,
      [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; t++) {
          if (slots[t] < 0) continue;  // padding token
          const int64_t block = slots[t] / bs, off = slots[t] % bs;
          for (int64_t h = 0; h < H; h++) {
            const int64_t dst = ((block * H + h) * bs + off) * D;
            store_row(k + (t * H + h) * D, k_cache, cache_dtype, dst, D);
            store_row(v + (t * H + h) * D, v_cache, cache_dtype, dst, D);
          }
        }
      },
      std::max<int64_t>(1, 8192 / (H * D)));
}

}  // namespace tpserve::cpu
