// CUDA rope + kv_write fused, one block per token: rotate-half x1' = x1 cos - x2 sin,
// x2' = x2 cos + x1 sin (the CPU's expressions) with cos / sin from the table row of the token's
// position, k and v stored to the paged cache.
// Tests: tests/cuda_ops_test.cpp.
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/rope.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

constexpr int kThreads = 256;

// q: [T, Hq, D]; k, v: [T, Hk, D]; caches [num_blocks, Hk, bs, D]; tables [num_positions, half].
// Per token: Hq * half q pairs, Hk * half k pairs (rotated, stored back and to the cache), Hk * D
// v elements.
template <typename T>
__global__ void rope_kv_write_kernel(float* q, float* k, const float* v, const float* cos_table,
                                     const float* sin_table, const int32_t* positions, const int32_t* slots, int64_t num_tokens, int64_t Hq, int64_t Hk, int64_t bs,
                                     int64_t half, int64_t num_slots, T* k_cache, T* v_cache) {
  const int64_t D = 2 * half, nq = Hq * half, nk = Hk * half, per_token = nq + nk + Hk * D;
  for (int64_t t = blockIdx.x; t < num_tokens; t += gridDim.x) {
    const int64_t slot = slots[t];
    const bool store = slot >= 0 && slot < num_slots;
    const int64_t block = store ? slot / bs : 0, off = store ? slot % bs : 0;
    const float* cos = cos_table + static_cast<int64_t>(positions[t]) * half;
    const float* sin = sin_table + static_cast<int64_t>(positions[t]) * half;
    for (int64_t j = threadIdx.x; j < per_token; j += blockDim.x) {
      if (j < nq + nk) {
        const bool is_q = j < nq;
        const int64_t jj = is_q ? j : j - nq, h = jj / half, d = jj % half;
        float* x1 = (is_q ? q + (t * Hq + h) * D : k + (t * Hk + h) * D) + d;
        const float c = cos[d], s = sin[d];
        const float a = x1[0], b = x1[half];
        const float r1 = a * c - b * s, r2 = b * c + a * s;
        x1[0] = r1;
        x1[half] = r2;
        if (!is_q && store) {
          T* dst = k_cache + ((block * Hk + h) * bs + off) * D + d;
          dst[0] = from_float<T>(r1);
          dst[half] = from_float<T>(r2);
        }
      } else if (store) {
        const int64_t jj = j - nq - nk, h = jj / D, d = jj % D;
        v_cache[((block * Hk + h) * bs + off) * D + d] = from_float<T>(v[(t * Hk + h) * D + d]);
      }
    }
  }
}

}  // namespace

void rope_kv_write(float* q, float* k, const float* v, const float* cos_table, const float* sin_table,
                   const int32_t* positions, const int32_t* slots, int64_t num_tokens, int64_t num_q_heads,
                   const KvLayout& layout, void* k_cache, void* v_cache, DType cache_dtype) {
  const int64_t D = layout.head_dim;
  TPS_CHECK(D > 0 && D % 2 == 0, "rope_kv_write: head_dim must be even and positive, got ", D);
  TPS_CHECK(layout.num_kv_heads > 0 && layout.block_size > 0 && layout.num_blocks >= 0,
            "rope_kv_write: bad cache layout");
  TPS_CHECK(num_tokens >= 0 && num_q_heads >= 0, "rope_kv_write: negative shape");
  if (num_tokens == 0) return;
  TPS_CHECK(q && k && v && cos_table && sin_table && positions && slots && k_cache && v_cache,
            "rope_kv_write: null pointer");
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(num_tokens, 65535));
  dispatch_dtype(cache_dtype, [&](auto tag) {
    using T = decltype(tag);
    rope_kv_write_kernel<T><<<blocks, kThreads, 0, current_stream()>>>(
        q, k, v, cos_table, sin_table, positions, slots, num_tokens, num_q_heads, layout.num_kv_heads, layout.block_size, D / 2,
        layout.num_blocks * layout.block_size, static_cast<T*>(k_cache), static_cast<T*>(v_cache));
  });
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace tpserve::cuda
