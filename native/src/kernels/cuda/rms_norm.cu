// CUDA RMSNorm in fp32, one block per row: out = x * (1 / sqrt(mean(x^2) + eps)) * weight, the
// CPU's formula and order. The fused variant first stores residual + x into residual (each thread
// re-reads only what it wrote). 16-byte accesses when dim % 8 == 0. Tests: tests/cuda_ops_test.cpp.
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/rms_norm.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

constexpr int kThreads = 256;

// x, out: [num_rows, dim]; weight: [dim]. kAdd: x is the residual stream, `delta` is added to it first.
template <typename T, bool kVec8, bool kAdd>
__global__ void rms_norm_kernel(float* x, const float* delta, const T* weight, float eps, int64_t num_rows,
                                int64_t dim, float* out) {
  __shared__ float red[32];
  for (int64_t r = blockIdx.x; r < num_rows; r += gridDim.x) {
    float* xr = x + r * dim;
    float* orow = out + r * dim;
    float ss = 0.f;
    if constexpr (kVec8) {
      for (int64_t i = threadIdx.x * 8; i < dim; i += blockDim.x * 8) {
        float v[8];
        load8(xr + i, v);
        if constexpr (kAdd) {
          float d[8];
          load8(delta + r * dim + i, d);
#pragma unroll
          for (int j = 0; j < 8; j++) v[j] += d[j];
          store8(xr + i, v);
        }
#pragma unroll
        for (int j = 0; j < 8; j++) ss += v[j] * v[j];
      }
    } else {
      for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = xr[i];
        if constexpr (kAdd) xr[i] = v = v + delta[r * dim + i];
        ss += v * v;
      }
    }
    ss = block_sum(ss, red);
    const float inv = 1.0f / sqrtf(ss / static_cast<float>(dim) + eps);
    if constexpr (kVec8) {
      for (int64_t i = threadIdx.x * 8; i < dim; i += blockDim.x * 8) {
        float v[8], w[8];
        load8(xr + i, v);
        load8(weight + i, w);
#pragma unroll
        for (int j = 0; j < 8; j++) v[j] = v[j] * inv * w[j];
        store8(orow + i, v);
      }
    } else {
      for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) orow[i] = xr[i] * inv * to_float(weight[i]);
    }
  }
}

template <bool kAdd>
void launch(float* x, const float* delta, const Tensor& weight, float eps, int64_t num_rows, int64_t dim, float* out,
            const char* name) {
  TPS_CHECK(!weight.device().is_cpu(), name, ": weight is not on the GPU");
  TPS_CHECK(weight.numel() == dim, name, ": weight ", weight.shape_string(), " does not match dim ", dim);
  TPS_CHECK(num_rows >= 0 && dim > 0, name, ": bad shape [", num_rows, ", ", dim, "]");
  if (num_rows == 0) return;
  TPS_CHECK(x && out && (!kAdd || delta), name, ": null pointer");
  const bool vec8 = dim % 8 == 0 && is_aligned(x, 16) && is_aligned(out, 16) && is_aligned(weight.data(), 16) &&
                    (!kAdd || is_aligned(delta, 16));
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(num_rows, 65535));
  dispatch_dtype(weight.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (vec8)
      rms_norm_kernel<T, true, kAdd><<<blocks, kThreads, 0, current_stream()>>>(x, delta, weight.ptr<T>(), eps,
                                                                                 num_rows, dim, out);
    else
      rms_norm_kernel<T, false, kAdd><<<blocks, kThreads, 0, current_stream()>>>(x, delta, weight.ptr<T>(), eps,
                                                                                  num_rows, dim, out);
  });
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace

void rms_norm(const float* x, const Tensor& weight, float eps, int64_t num_rows, int64_t dim, float* out) {
  // kAdd = false never writes x: the const_cast only lets both variants share one kernel.
  launch<false>(const_cast<float*>(x), nullptr, weight, eps, num_rows, dim, out, "rms_norm");
}

void add_rms_norm(float* residual, const float* x, const Tensor& weight, float eps, int64_t num_rows, int64_t dim,
                  float* normed_out) {
  launch<true>(residual, x, weight, eps, num_rows, dim, normed_out, "add_rms_norm");
}

}  // namespace tpserve::cuda
