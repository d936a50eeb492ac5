// CUDA paged KV write: one thread per 8 elements of a (token, kv head) row (16-byte cache stores
// for bf16/f16 when head_dim % 8 == 0), round to nearest even. Tests: tests/cuda_ops_test.cpp.
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/kv_write.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

constexpr int kThreads = 256;

template <typename T>
__device__ __forceinline__ void store8_as(T* dst, const float (&v)[8]) {
  if constexpr (sizeof(T) == 4) {
    store8(reinterpret_cast<float*>(dst), v);
  } else {
    uint4 raw;
    T* h = reinterpret_cast<T*>(&raw);
#pragma unroll
    for (int i = 0; i < 8; i++) h[i] = from_float<T>(v[i]);
    *reinterpret_cast<uint4*>(dst) = raw;
  }
}

// k, v: [num_tokens, H, D]; caches: [num_blocks, H, bs, D]. Item = (token, head, chunk of kVec elements).
template <typename T, int kVec>
__global__ void kv_write_kernel(const float* k, const float* v, const int32_t* slots, int64_t num_tokens, int64_t H,
                                int64_t bs, int64_t D, int64_t num_slots, T* k_cache, T* v_cache) {
  const int64_t chunks = D / kVec, total = num_tokens * H * chunks;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = i % chunks, th = i / chunks, t = th / H, h = th % H;
    const int64_t slot = slots[t];
    if (slot < 0 || slot >= num_slots) continue;  // padding (or a bad slot: never write out of bounds)
    const int64_t dst = (((slot / bs) * H + h) * bs + slot % bs) * D + c * kVec;
    const int64_t src = th * D + c * kVec;
    if constexpr (kVec == 8) {
      float kv[8], vv[8];
      load8(k + src, kv);
      load8(v + src, vv);
      store8_as(k_cache + dst, kv);
      store8_as(v_cache + dst, vv);
    } else {
      k_cache[dst] = from_float<T>(k[src]);
      v_cache[dst] = from_float<T>(v[src]);
    }
  }
}

}  // namespace

void kv_write(const float* k, const float* v, const int32_t* slots, int64_t num_tokens, const KvLayout& layout,
              void* k_cache, void* v_cache, DType cache_dtype) {
  if (!check_kv_write_args(k, v, slots, num_tokens, layout, k_cache, v_cache)) return;
  const int64_t H = layout.num_kv_heads, bs = layout.block_size, D = layout.head_dim;
  const int64_t num_slots = layout.num_blocks * bs;
  const bool vec8 = D % 8 == 0 && is_aligned(k, 16) && is_aligned(v, 16) && is_aligned(k_cache, 16) &&
                    is_aligned(v_cache, 16);
  dispatch_dtype(cache_dtype, [&](auto tag) {
    using T = decltype(tag);
    T* kc = static_cast<T*>(k_cache);
    T* vc = static_cast<T*>(v_cache);
    if (vec8)
      kv_write_kernel<T, 8><<<grid_for(num_tokens * H * D / 8, kThreads), kThreads, 0, current_stream()>>>(
          k, v, slots, num_tokens, H, bs, D, num_slots, kc, vc);
    else
      kv_write_kernel<T, 1><<<grid_for(num_tokens * H * D, kThreads), kThreads, 0, current_stream()>>>(
          k, v, slots, num_tokens, H, bs, D, num_slots, kc, vc);
  });
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace tpserve::cuda
