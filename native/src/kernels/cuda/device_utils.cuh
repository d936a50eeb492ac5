// Device-side helpers shared by the tpserve CUDA kernels (include from .cu files only):
// element types of the storage dtypes, fp32 conversions, 16-byte vector loads, warp/block
// reductions, launch-size and shared-memory helpers and the dtype dispatch of the launchers.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/cuda_check.cuh"
#include "tpserve/dtype.h"

namespace tpserve::cuda {

__host__ __device__ inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Storage type <-> float (bf16/f16 stores round to nearest even, as dtype.h's host versions).
__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }
template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <>
__device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }

// 8 consecutive elements as fp32 from a 16-byte (16-bit types) or 32-byte (f32) aligned address.
__device__ __forceinline__ void load8(const float* p, float (&out)[8]) {
  const float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
  out[0] = a.x, out[1] = a.y, out[2] = a.z, out[3] = a.w, out[4] = b.x, out[5] = b.y, out[6] = b.z, out[7] = b.w;
}
template <typename T>
__device__ __forceinline__ void load8(const T* p, float (&out)[8]) {
  const uint4 raw = *reinterpret_cast<const uint4*>(p);
  const T* h = reinterpret_cast<const T*>(&raw);
#pragma unroll
  for (int i = 0; i < 8; i++) out[i] = to_float(h[i]);
}
__device__ __forceinline__ void store8(float* p, const float (&v)[8]) {
  reinterpret_cast<float4*>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
  reinterpret_cast<float4*>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
}

// Reductions with any associative op (every lane / thread gets the result).
struct Sum {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
template <typename T, typename Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) { return warp_reduce(v, Sum{}); }

// Over the block (blockDim.x a multiple of 32, <= 1024). `red`: __shared__ T[32] (or one per
// warp). Contains __syncthreads: call from all threads.
template <typename T, typename Op>
__device__ T block_reduce(T v, T* red, Op op) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, num_warps = blockDim.x >> 5;
  v = warp_reduce(v, op);
  __syncthreads();  // red may still be read by a previous call
  if (lane == 0) red[warp] = v;
  __syncthreads();
  v = red[0];
  for (int w = 1; w < num_warps; w++) v = op(v, red[w]);
  return v;
}
__device__ inline float block_sum(float v, float* red) { return block_reduce(v, red, Sum{}); }

inline bool is_aligned(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

// Multiprocessors of the current device (cached per device).
int num_sms();
// Raises `kernel`'s dynamic shared-memory limit to `bytes` once per (kernel, device); thread-safe.
void allow_dynamic_smem(const void* kernel, size_t bytes);

// Blocks for a grid-stride loop over `items` with `threads` per block (a few waves at most).
inline unsigned grid_for(int64_t items, int threads) {
  const int64_t blocks = std::max<int64_t>(1, ceil_div(items, threads));
  return static_cast<unsigned>(std::min<int64_t>(blocks, static_cast<int64_t>(num_sms()) * 16));
}

// Calls f(T{}) with T the storage type of dtype.
template <typename F>
void dispatch_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::F32: f(float{}); return;
    case DType::BF16: f(__nv_bfloat16{}); return;
    case DType::F16: f(__half{}); return;
  }
  TPS_THROW("unknown dtype ", static_cast<int>(dtype));
}

}  // namespace tpserve::cuda
