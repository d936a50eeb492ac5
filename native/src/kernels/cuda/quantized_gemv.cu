// Quantized decode GEMV (see quantized_gemv.cuh). Blocks of 4 warps, one warp per 2 output rows: each lane
// streams 16 bytes of each row per step (32 int4 or 16 int8 / fp8 columns) with 128-bit loads, a
// warp 512 contiguous bytes per row; the codes are decoded and scaled in registers (int4: scale
// and zero point of the lane's group, which a 32-column step never straddles; int8 / fp8: the row
// scale after the reduction), dotted with up to 8 x rows in fp32, then reduced over the warp.
// Act-order weights (perm) read x through the permutation.
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/quantized_codes.cuh"
#include "kernels/cuda/quantized_gemv.cuh"
#include "kernels/cuda/stream.cuh"
#include "kernels/cuda/weight_upload.h"

namespace tpserve::cuda {
namespace {

constexpr int kWarps = 4, kRowsPerWarp = 2;  // 8 rows per block: the 1024-row k/v projections still spread over 128 SMs

// P columns of one x row from column c (zero past k): float4 loads when vec (c + P <= k, aligned).
template <int P, bool kPerm>
__device__ __forceinline__ void load_x(const float* __restrict__ xr, int64_t c, int64_t k,
                                       const int32_t* __restrict__ perm, bool vec, float (&out)[8]) {
  if constexpr (kPerm) {
#pragma unroll
    for (int j = 0; j < P; j++) out[j] = c + j < k ? __ldg(xr + __ldg(perm + c + j)) : 0.f;
  } else {
    if (vec) {
#pragma unroll
      for (int j = 0; j < P; j += 4) {
        const float4 a = *reinterpret_cast<const float4*>(xr + c + j);
        out[j] = a.x, out[j + 1] = a.y, out[j + 2] = a.z, out[j + 3] = a.w;
      }
    } else {
#pragma unroll
      for (int j = 0; j < P; j++) out[j] = c + j < k ? xr[c + j] : 0.f;
    }
  }
}

__device__ __forceinline__ uint32_t word_of(const uint4& v, int q) { return q == 0 ? v.x : q == 1 ? v.y : q == 2 ? v.z : v.w; }

// x: [m, k]; w: [n, ld] device layout; scales/zeros: [n, ng] (int4) or scales [n]; y: [m, n]
template <WeightFormat F, int M, bool kPerm>
__global__ void __launch_bounds__(kWarps * 32)
    quantized_gemv_kernel(const float* __restrict__ x, int m, const uint8_t* __restrict__ w, int64_t ld,
                          const float* __restrict__ scales, const float* __restrict__ zeros, int64_t ng,
                          int64_t group, const int32_t* __restrict__ perm, const float* __restrict__ bias, int64_t k,
                          int64_t n, bool vec_x, float* __restrict__ y) {
  constexpr int P = kCodesPerWord<F>, kCols = 4 * P, R = kRowsPerWarp;
  constexpr bool kInt4 = F == WeightFormat::Int4;
  const int lane = threadIdx.x & 31;
  const int64_t row0 = (static_cast<int64_t>(blockIdx.x) * kWarps + (threadIdx.x >> 5)) * R;
  if (row0 >= n) return;
  int64_t rows[R];
  const uint8_t* wr[R];
#pragma unroll
  for (int r = 0; r < R; r++) {
    rows[r] = min(row0 + r, n - 1);  // past the last row: read it again, store nothing
    wr[r] = w + rows[r] * ld;
  }
  float acc[M][R];
#pragma unroll
  for (int i = 0; i < M; i++)
#pragma unroll
    for (int r = 0; r < R; r++) acc[i][r] = 0.f;

  for (int64_t c0 = static_cast<int64_t>(lane) * kCols; c0 < k; c0 += 32 * kCols) {
    uint4 raw[R];
    float s[R], z[R];
#pragma unroll
    for (int r = 0; r < R; r++) {
      raw[r] = __ldg(reinterpret_cast<const uint4*>(wr[r] + (kInt4 ? c0 / 2 : c0)));
      if constexpr (kInt4) {
        const int64_t g = rows[r] * ng + c0 / group;
        s[r] = __ldg(scales + g);
        z[r] = __ldg(zeros + g);
      }
    }
    const bool vec = vec_x && c0 + kCols <= k;
#pragma unroll
    for (int q = 0; q < 4; q++) {
      const int64_t c = c0 + q * P;
      float wv[R][8];
#pragma unroll
      for (int r = 0; r < R; r++) {
        decode_word<F>(word_of(raw[r], q), wv[r]);
        if constexpr (kInt4) {
#pragma unroll
          for (int j = 0; j < P; j++) wv[r][j] = (wv[r][j] - z[r]) * s[r];
        }
      }
#pragma unroll
      for (int i = 0; i < M; i++) {
        if (i < m) {
          float xv[8];
          load_x<P, kPerm>(x + i * k, c, k, perm, vec, xv);
#pragma unroll
          for (int r = 0; r < R; r++)
#pragma unroll
            for (int j = 0; j < P; j++) acc[i][r] = fmaf(xv[j], wv[r][j], acc[i][r]);
        }
      }
    }
  }
#pragma unroll
  for (int i = 0; i < M; i++) {
    if (i >= m) break;
#pragma unroll
    for (int r = 0; r < R; r++) {
      float v = warp_sum(acc[i][r]);
      const int64_t row = row0 + r;
      if (lane == 0 && row < n) {
        if constexpr (!kInt4) v *= scales[row];
        y[i * n + row] = v + (bias ? bias[row] : 0.f);
      }
    }
  }
}

template <WeightFormat F, int M, bool kPerm>
void launch(const float* x, const LinearWeight& w, const float* bias, int64_t m, float* y) {
  const int64_t n = w.out_features(), k = w.in_features();
  const int64_t ng = num_weight_groups(w), group = F == WeightFormat::Int4 ? w.group_size : k;
  const bool vec_x = k % 4 == 0 && is_aligned(x, 16);
  const unsigned blocks = static_cast<unsigned>(ceil_div(n, int64_t{kWarps} * kRowsPerWarp));
  quantized_gemv_kernel<F, M, kPerm><<<blocks, kWarps * 32, 0, current_stream()>>>(
      x, static_cast<int>(m), w.weight.ptr<const uint8_t>(), quantized_row_bytes(w), w.scales.ptr<const float>(),
      F == WeightFormat::Int4 ? w.zeros.ptr<const float>() : nullptr, ng, group,
      kPerm ? w.perm.ptr<const int32_t>() : nullptr, bias, k, n, vec_x, y);
}

template <WeightFormat F, bool kPerm>
void launch_rows(const float* x, const LinearWeight& w, const float* bias, int64_t m, float* y) {
  if (m == 1) launch<F, 1, kPerm>(x, w, bias, m, y);
  else if (m == 2) launch<F, 2, kPerm>(x, w, bias, m, y);
  else if (m <= 4) launch<F, 4, kPerm>(x, w, bias, m, y);
  else launch<F, 8, kPerm>(x, w, bias, m, y);
}

template <WeightFormat F>
void launch_format(const float* x, const LinearWeight& w, const float* bias, int64_t m, float* y) {
  if (w.perm.defined()) launch_rows<F, true>(x, w, bias, m, y);
  else launch_rows<F, false>(x, w, bias, m, y);
}

}  // namespace

void quantized_gemv(const float* x, const LinearWeight& w, const float* bias, int64_t m, float* y) {
  TPS_CHECK(m >= 0 && m <= kQuantGemvMaxRows, "quantized_gemv: ", m, " rows, at most ", kQuantGemvMaxRows);
  TPS_CHECK(!w.weight.device().is_cpu(), "quantized_gemv: the weight is not on the GPU");
  if (m == 0 || w.out_features() == 0) return;
  TPS_CHECK(x && y && x != y, "quantized_gemv: null or aliased x / y");
  switch (w.format) {
    case WeightFormat::Int8: launch_format<WeightFormat::Int8>(x, w, bias, m, y); break;
    case WeightFormat::Int4: launch_format<WeightFormat::Int4>(x, w, bias, m, y); break;
    case WeightFormat::Fp8: launch_format<WeightFormat::Fp8>(x, w, bias, m, y); break;
    case WeightFormat::Float: TPS_THROW("quantized_gemv: the weight is not quantized");
  }
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace tpserve::cuda
