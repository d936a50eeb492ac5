// CUDA element-wise adds in fp32: out = a + b (float4 when aligned) and y[r, :] += bias.
// Tests: tests/cuda_ops_test.cpp (against kernels/cpu/add.cpp).
#include "kernels/cuda/add.cuh"
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void add_vec4_kernel(const float4* a, const float4* b, int64_t num_vec, float4* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < num_vec; i += int64_t(gridDim.x) * blockDim.x) {
    const float4 x = a[i], y = b[i];
    out[i] = make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
  }
}

__global__ void add_kernel(const float* a, const float* b, int64_t n, float* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = a[i] + b[i];
}

// y: [num_rows, n]; bias: [n]
template <typename T>
__global__ void add_bias_kernel(float* y, const T* bias, int64_t num_rows, int64_t n) {
  const int64_t total = num_rows * n;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
    y[i] += to_float(bias[i % n]);
}

}  // namespace

void add(const float* a, const float* b, int64_t n, float* out) {
  TPS_CHECK(n >= 0, "add: negative size ", n);
  if (n == 0) return;
  TPS_CHECK(a && b && out, "add: null pointer");
  cudaStream_t stream = current_stream();
  if (n % 4 == 0 && is_aligned(a, 16) && is_aligned(b, 16) && is_aligned(out, 16)) {
    add_vec4_kernel<<<grid_for(n / 4, kThreads), kThreads, 0, stream>>>(
        reinterpret_cast<const float4*>(a), reinterpret_cast<const float4*>(b), n / 4, reinterpret_cast<float4*>(out));
  } else {
    add_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(a, b, n, out);
  }
  TPS_CUDA_CHECK_LAUNCH();
}

void add_bias(float* y, const Tensor& bias, int64_t num_rows) {
  TPS_CHECK(!bias.device().is_cpu(), "add_bias: bias is not on the GPU");
  TPS_CHECK(num_rows >= 0, "add_bias: negative row count ", num_rows);
  const int64_t n = bias.numel();
  if (num_rows == 0 || n == 0) return;
  TPS_CHECK(y && bias.data(), "add_bias: null pointer");
  dispatch_dtype(bias.dtype(), [&](auto tag) {
    using T = decltype(tag);
    add_bias_kernel<T><<<grid_for(num_rows * n, kThreads), kThreads, 0, current_stream()>>>(y, bias.ptr<T>(),
                                                                                             num_rows, n);
  });
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace tpserve::cuda
