// Hash-based uniform fills on the device (see random_fill.h).
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/device_utils.cuh"
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
  const unsigned blocks = grid_for(n, kThreads);  // a few waves of this GPU's multiprocessors
  fill_kernel<T><<<blocks, kThreads, 0, stream>>>(static_cast<T*>(data), n, seed, lo, hi - lo);
  TPS_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void random_fill(void* data, DType dtype, int64_t n, uint64_t seed, float lo, float hi, cudaStream_t stream) {
  if (n <= 0) return;
  dispatch_dtype(dtype, [&](auto tag) { launch<decltype(tag)>(data, n, seed, lo, hi, stream); });
}

}  // namespace tpserve::cuda
