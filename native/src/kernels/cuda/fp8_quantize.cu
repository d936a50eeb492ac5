// Dynamic per-tensor FP8 quantization (see fp8_quantize.cuh): a grid-stride max|x| reduced per
// block and merged with an integer atomicMax on the float's bits (valid for values >= 0), then a
// grid-stride conversion reading the scale that the first block's thread 0 also stores.
#include <cuda_fp8.h>

#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/fp8_quantize.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

constexpr int kThreads = 256;
constexpr float kE4m3Max = 448.f;

struct Max {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

__global__ void __launch_bounds__(kThreads) amax_kernel(const float* __restrict__ x, int64_t n, float* amax) {
  __shared__ float red[32];
  float m = 0.f;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    m = fmaxf(m, fabsf(x[i]));
  m = block_reduce(m, red, Max{});
  if (threadIdx.x == 0) atomicMax(reinterpret_cast<unsigned int*>(amax), __float_as_uint(m));
}

__global__ void __launch_bounds__(kThreads)
    quantize_kernel(const float* __restrict__ x, int64_t n, __nv_fp8_storage_t* __restrict__ out, float* amax_scale) {
  const float amax = amax_scale[0];
  const float scale = amax > 0.f ? amax / kE4m3Max : 1.f;
  if (blockIdx.x == 0 && threadIdx.x == 0) amax_scale[1] = scale;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = __nv_cvt_float_to_fp8(x[i] / scale, __NV_SATFINITE, __NV_E4M3);
}

}  // namespace

void quantize_fp8_per_tensor(const float* x, int64_t n, void* out, float* amax_scale) {
  TPS_CHECK(n >= 0 && (n == 0 || (x && out && amax_scale)), "quantize_fp8_per_tensor: null pointers");
  cudaStream_t stream = current_stream();
  TPS_CUDA_CHECK(cudaMemsetAsync(amax_scale, 0, 2 * sizeof(float), stream));
  if (n == 0) return;
  const unsigned blocks = grid_for(n, kThreads);
  amax_kernel<<<blocks, kThreads, 0, stream>>>(x, n, amax_scale);
  quantize_kernel<<<blocks, kThreads, 0, stream>>>(x, n, static_cast<__nv_fp8_storage_t*>(out), amax_scale);
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace tpserve::cuda
