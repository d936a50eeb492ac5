// The activation cast in front of the cuBLASLt GEMMs: fp32 x rounded (to nearest even) to bf16
// or f16, four elements per thread with 16-byte loads when the pointers allow.
// This pass is the price of fp32 activations: bf16 activations end to end would drop it.
#include "kernels/cuda/cublaslt.h"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/device_utils.cuh"

namespace tpserve::cuda {
namespace {

template <typename T>
__global__ void cast_vec4_kernel(const float4* __restrict__ x, T* __restrict__ out, int64_t num_vec) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < num_vec;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float4 v = x[i];
    T* o = out + 4 * i;
    o[0] = from_float<T>(v.x);
    o[1] = from_float<T>(v.y);
    o[2] = from_float<T>(v.z);
    o[3] = from_float<T>(v.w);
  }
}

template <typename T>
__global__ void cast_kernel(const float* __restrict__ x, T* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = from_float<T>(x[i]);
}

template <typename T>
void launch(const float* x, void* out, int64_t n, cudaStream_t stream) {
  constexpr int kThreads = 256;
  const bool vec = n % 4 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(out) % 8 == 0;
  int64_t items = vec ? n / 4 : n;
  const unsigned blocks = grid_for(items, kThreads);  // a few waves of this GPU's multiprocessors
  if (vec)
    cast_vec4_kernel<T><<<blocks, kThreads, 0, stream>>>(reinterpret_cast<const float4*>(x),
                                                                                static_cast<T*>(out), items);
  else
    cast_kernel<T><<<blocks, kThreads, 0, stream>>>(x, static_cast<T*>(out), n);
  TPS_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void cast_f32_to_16bit(const float* x, void* out, int64_t n, bool to_bf16, cudaStream_t stream) {
  if (n <= 0) return;
  if (to_bf16) launch<__nv_bfloat16>(x, out, n, stream);
  else launch<__half>(x, out, n, stream);
}

}  // namespace tpserve::cuda
