// Hash-based uniform fills on the device (see random_fill.h).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/random_fill.h"

namespace tpserve::cuda {
namespace {

__device__ __forceinline__ uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <>
__device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }

template <typename T>
__global__ void fill_kernel(T* __restrict__ out, int64_t n, uint64_t seed, float lo, float span) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    uint64_t bits = mix(seed ^ mix(static_cast<uint64_t>(i)));
    float u = static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);  // 24 bits → [0, 1)
    out[i] = from_float<T>(lo + span * u);
  }
}

template <typename T>
void launch(void* data, int64_t n, uint64_t seed, float lo, float hi, cudaStream_t stream) {
  constexpr int kThreads = 256;
  int64_t blocks = std::min<int64_t>((n + kThreads - 1) / kThreads, 132 * 32);
  fill_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(static_cast<T*>(data), n, seed, lo, hi - lo);
  TPS_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void random_fill(void* data, DType dtype, int64_t n, uint64_t seed, float lo, float hi, cudaStream_t stream) {
  if (n <= 0) return;
  switch (dtype) {
    case DType::F32: launch<float>(data, n, seed, lo, hi, stream); break;
    case DType::BF16: launch<__nv_bfloat16>(data, n, seed, lo, hi, stream); break;
    case DType::F16: launch<__half>(data, n, seed, lo, hi, stream); break;
  }
}

}  // namespace tpserve::cuda
