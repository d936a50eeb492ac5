// CUDA SwiGLU, element-wise in fp32 with the CPU's formula: out = g / (1 + exp(-g)) * up
// (accurate expf, no fast-math). Tests: tests/cuda_ops_test.cpp.
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/silu_mul.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float silu_times(float g, float u) { return g / (1.0f + expf(-g)) * u; }

__global__ void silu_mul_vec4_kernel(const float4* gate, const float4* up, int64_t num_vec, float4* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < num_vec; i += int64_t(gridDim.x) * blockDim.x) {
    const float4 g = gate[i], u = up[i];
    out[i] = make_float4(silu_times(g.x, u.x), silu_times(g.y, u.y), silu_times(g.z, u.z), silu_times(g.w, u.w));
  }
}

__global__ void silu_mul_kernel(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = silu_times(gate[i], up[i]);
}

}  // namespace

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  TPS_CHECK(n >= 0, "silu_mul: negative size ", n);
  if (n == 0) return;
  TPS_CHECK(gate && up && out, "silu_mul: null pointer");
  cudaStream_t stream = current_stream();
  if (n % 4 == 0 && is_aligned(gate, 16) && is_aligned(up, 16) && is_aligned(out, 16)) {
    silu_mul_vec4_kernel<<<grid_for(n / 4, kThreads), kThreads, 0, stream>>>(
        reinterpret_cast<const float4*>(gate), reinterpret_cast<const float4*>(up), n / 4,
        reinterpret_cast<float4*>(out));
  } else {
    silu_mul_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(gate, up, n, out);
  }
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace tpserve::cuda
