// CUDA fallback GEMM y[m, n] = x[m, k] . W[n, k]^T + bias[n] in fp32 (weights converted on load).
//  - m <= kGemvMaxRows: one warp per output column streams its weight row once (16-byte loads
//    when k % 8 == 0) and dots it with every x row; bandwidth-bound like decode.
//  - otherwise: 64x64 output tiles, 16-deep k slices of x and W staged transposed in shared
//    memory, 4x4 outputs per thread.
// The production path is cuBLASLt (cublaslt.h). Tests: tests/cuda_ops_test.cpp.
#include "kernels/cuda/add.cuh"
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/linear.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

constexpr int kGemvMaxRows = 8;
constexpr int kGemvWarps = 8;
constexpr int kTile = 64, kTileK = 16, kGemmThreads = 256;

// x: [m, k]; w: [n, k]; bias: [n] or null; y: [m, n]
template <typename T, bool kVec8>
__global__ void __launch_bounds__(kGemvWarps * 32) gemv_kernel(const float* x, const T* w, const T* bias, int64_t m,
                                                               int64_t k, int64_t n, float* y) {
  const int lane = threadIdx.x & 31;
  const int64_t col = blockIdx.x * int64_t(kGemvWarps) + (threadIdx.x >> 5);
  if (col >= n) return;
  const T* wr = w + col * k;
  float acc[kGemvMaxRows];
#pragma unroll
  for (int r = 0; r < kGemvMaxRows; r++) acc[r] = 0.f;
  if constexpr (kVec8) {
    for (int64_t i = lane * 8; i < k; i += 32 * 8) {
      float wv[8];
      load8(wr + i, wv);
#pragma unroll
      for (int r = 0; r < kGemvMaxRows; r++) {
        if (r < m) {
          float xv[8];
          load8(x + r * k + i, xv);
#pragma unroll
          for (int j = 0; j < 8; j++) acc[r] += xv[j] * wv[j];
        }
      }
    }
  } else {
    for (int64_t i = lane; i < k; i += 32) {
      const float wv = to_float(wr[i]);
#pragma unroll
      for (int r = 0; r < kGemvMaxRows; r++)
        if (r < m) acc[r] += x[r * k + i] * wv;
    }
  }
  const float b = bias ? to_float(bias[col]) : 0.f;
#pragma unroll
  for (int r = 0; r < kGemvMaxRows; r++) {
    if (r < m) {
      const float s = warp_sum(acc[r]);
      if (lane == 0) y[r * n + col] = s + b;
    }
  }
}

// Tile (blockIdx.y, blockIdx.x) of y: rows [64 by, +64), columns [64 bx, +64); thread (ty, tx)
// of a 16 x 16 grid owns rows 4 ty.., columns 4 tx...
template <typename T>
__global__ void __launch_bounds__(kGemmThreads) gemm_kernel(const float* x, const T* w, const T* bias, int64_t m,
                                                            int64_t k, int64_t n, float* y) {
  __shared__ __align__(16) float xs[kTileK][kTile + 4];  // [k][row]
  __shared__ __align__(16) float ws[kTileK][kTile + 4];  // [k][col]
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int64_t row0 = blockIdx.y * int64_t(kTile), col0 = blockIdx.x * int64_t(kTile);
  // loader: thread -> (tile row lr, k quad lq)
  const int lr = tid / 4, lq = (tid % 4) * 4;
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < k; k0 += kTileK) {
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int64_t kk = k0 + lq + j;
      const int64_t r = row0 + lr, c = col0 + lr;
      xs[lq + j][lr] = (r < m && kk < k) ? x[r * k + kk] : 0.f;
      ws[lq + j][lr] = (c < n && kk < k) ? to_float(w[c * k + kk]) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kTileK; kk++) {
      const float4 a = *reinterpret_cast<const float4*>(&xs[kk][ty * 4]);
      const float4 b = *reinterpret_cast<const float4*>(&ws[kk][tx * 4]);
      const float av[4] = {a.x, a.y, a.z, a.w}, bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] += av[i] * bv[j];
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int64_t r = row0 + ty * 4 + i;
    if (r >= m) continue;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int64_t c = col0 + tx * 4 + j;
      if (c < n) y[r * n + c] = acc[i][j] + (bias ? to_float(bias[c]) : 0.f);
    }
  }
}

}  // namespace

void linear(const float* x, const Tensor& weight, const Tensor* bias, int64_t m, float* y) {
  TPS_CHECK(!weight.device().is_cpu(), "linear: weight is not on the GPU");
  TPS_CHECK(weight.rank() == 2, "linear: weight must be [n, k], got ", weight.shape_string());
  TPS_CHECK(m >= 0, "linear: negative row count ", m);
  const int64_t n = weight.dim(0), k = weight.dim(1);
  const bool has_bias = bias && bias->defined();
  if (has_bias) {
    TPS_CHECK(bias->numel() == n, "linear: bias ", bias->shape_string(), " does not match ", n, " outputs");
    TPS_CHECK(!bias->device().is_cpu(), "linear: bias is not on the GPU");
  }
  if (m == 0 || n == 0) return;
  TPS_CHECK(x && y, "linear: null x or y");
  TPS_CHECK(x != y, "linear: y must not alias x");
  cudaStream_t stream = current_stream();
  dispatch_dtype(weight.dtype(), [&](auto tag) {
    using T = decltype(tag);
    // a bias of the weight's dtype is fused; any other dtype is added by add_bias below
    const T* b = has_bias && bias->dtype() == weight.dtype() ? bias->ptr<T>() : nullptr;
    if (m <= kGemvMaxRows) {
      const unsigned blocks = static_cast<unsigned>(ceil_div(n, kGemvWarps));
      const bool vec8 = k % 8 == 0 && is_aligned(x, 16) && is_aligned(weight.data(), 16);
      if (vec8)
        gemv_kernel<T, true><<<blocks, kGemvWarps * 32, 0, stream>>>(x, weight.ptr<T>(), b, m, k, n, y);
      else
        gemv_kernel<T, false><<<blocks, kGemvWarps * 32, 0, stream>>>(x, weight.ptr<T>(), b, m, k, n, y);
    } else {
      TPS_CHECK(ceil_div(m, kTile) <= 65535, "linear: ", m, " rows exceed the fallback GEMM's grid");
      const dim3 grid(static_cast<unsigned>(ceil_div(n, kTile)), static_cast<unsigned>(ceil_div(m, kTile)));
      gemm_kernel<T><<<grid, kGemmThreads, 0, stream>>>(x, weight.ptr<T>(), b, m, k, n, y);
    }
  });
  TPS_CUDA_CHECK_LAUNCH();
  if (has_bias && bias->dtype() != weight.dtype()) add_bias(y, *bias, m);
}

}  // namespace tpserve::cuda
