// CPU linear on tiled BF16 weights: shape checks, x padded to the tile's columns, the choice of
// GEMV or GEMM and the split of output rows over the thread pool. Kernel bodies:
// linear_bf16_tiles_kernels.inc (after linear_kernels.inc, whose GEMM it shares), compiled once
// per SIMD path. Tests: tests/linear_bf16_tiles_test.cpp, batch_invariance_test.cpp.
#include "kernels/cpu/linear_bf16_tiles.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/row_ranges.h"
#include "kernels/cpu/simd.h"
#include "tpserve/bf16_weight_tiles.h"
#include "tpserve/linear_weight_tiles.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
namespace tpserve::cpu::simd_avx512 {
#include "kernels/cpu/linear_kernels.inc"
#include "kernels/cpu/linear_bf16_tiles_kernels.inc"
}
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace tpserve::cpu::simd_avx2 {
#include "kernels/cpu/linear_kernels.inc"
#include "kernels/cpu/linear_bf16_tiles_kernels.inc"
}
#pragma GCC pop_options

namespace tpserve::cpu::simd_portable {
#include "kernels/cpu/linear_kernels.inc"
#include "kernels/cpu/linear_bf16_tiles_kernels.inc"
}

namespace tpserve::cpu {
namespace {

// As linear(): the GEMV up to this many x rows, the GEMM above (measured the same crossing
// point on the tiles: GEMV 40 rows ~ GEMM).
constexpr int64_t kTileGemvMaxRows = 40;
// GEMV row ranges are multiples of this: whole groups of tiles (the layout's kBf16TileGroup).
constexpr int64_t kGemvRangeRows = kBf16TileGroup * kWeightTileRows;

using GemvFn = void (*)(const float*, int64_t, int64_t, const uint16_t*, int64_t, const float*, int64_t, int64_t, float*);
using GemmFn = void (*)(const float*, int64_t, int64_t, int64_t, const uint16_t*, int64_t, const float*, int64_t, int64_t,
                        float*, float*);

GemvFn gemv_fn(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return simd_avx512::tile_gemv_rows;
    case Isa::Avx2: return simd_avx2::tile_gemv_rows;
    case Isa::Portable: break;
  }
  return simd_portable::tile_gemv_rows;
}

GemmFn gemm_fn(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return simd_avx512::tile_gemm_rows;
    case Isa::Avx2: return simd_avx2::tile_gemm_rows;
    case Isa::Portable: break;
  }
  return simd_portable::tile_gemm_rows;
}

}  // namespace

void linear_bf16_tiles(const float* x, const LinearWeight& w, const Tensor* bias, int64_t m, float* y, bool batch_invariant) {
  TPS_CHECK(w.format == WeightFormat::Float && w.tile_rows == kWeightTileRows && w.weight.dtype() == DType::BF16 &&
                w.weight.device().is_cpu(),
            "linear_bf16_tiles: not a tiled BF16 CPU weight");
  TPS_CHECK(m >= 0, "linear_bf16_tiles: negative row count ", m);
  const int64_t n = w.rows, k = w.cols, kp = w.weight.dim(1);
  TPS_CHECK(kp == bf16_tile_columns(k) && w.weight.dim(0) == (n + kWeightTileRows - 1) / kWeightTileRows * kWeightTileRows,
            "linear_bf16_tiles: tile tensor ", w.weight.shape_string(), " does not hold a [", n, ", ", k, "] weight");
  TPS_CHECK(x != nullptr && y != nullptr, "linear_bf16_tiles: null x or y");
  TPS_CHECK(y + m * n <= x || x + m * k <= y || m == 0, "linear_bf16_tiles: y must not alias x");
  thread_local std::vector<float> bias_f32;
  if (bias) {
    TPS_CHECK(bias->device().is_cpu() && bias->numel() == n, "linear_bf16_tiles: bias has ", bias->numel(),
              " elements, the weight needs ", n);
    bias_f32.resize(static_cast<size_t>(n));
    vec_ops().to_f32(bias->data(), bias->dtype(), bias_f32.data(), n);
  }
  if (m == 0) return;
  const float* b = bias ? bias_f32.data() : nullptr;
  const auto* tiles = w.weight.ptr<const uint16_t>();
  const Isa isa = active_isa();
  const double work = 2.0 * static_cast<double>(k) * static_cast<double>(m);
  if (m <= kTileGemvMaxRows || batch_invariant) {
    // x rows padded with zeros to kp columns once here, read by every thread (only when k is not
    // already a multiple of the column block: the usual model shapes read x as it is)
    const float* xp = x;
    if (kp != k) {
      thread_local std::vector<float> padded;
      padded.assign(static_cast<size_t>(m * kp), 0.f);
      for (int64_t i = 0; i < m; i++) std::copy(x + i * k, x + (i + 1) * k, padded.begin() + i * kp);
      xp = padded.data();
    }
    const GemvFn fn = gemv_fn(isa);
    // ranges of whole groups: each thread's rows are one sequential stream
    for_row_stripes(n, kGemvRangeRows, work, [&](int64_t r0, int64_t r1) { fn(xp, m, kp, tiles, n, b, r0, r1, y); });
    return;
  }
  const GemmFn fn = gemm_fn(isa);
  for_row_ranges(n, 64, work, [&](int64_t r0, int64_t r1) {
    thread_local std::vector<float> pack;  // [kGemmNC / 2W panels][kGemmKC][2W] fp32
    pack.resize(static_cast<size_t>(simd_avx512::kGemmKC * (simd_avx512::kGemmNC + 32)));
    fn(x, m, k, kp, tiles, n, b, r0, r1, y, pack.data());
  });
}

}  // namespace tpserve::cpu
