// CPU linear layer y = x . W^T (+ bias): shape checks, choice of kernel (GEMV for few rows, OpenBLAS
// or the built-in blocked GEMM for many) and the split of output rows over the thread pool.
// Kernel bodies: linear_kernels.inc, compiled once per SIMD path. Tests: tests/linear_test.cpp.
#include "kernels/cpu/linear.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/cpu/row_ranges.h"
#include "kernels/cpu/simd.h"

#ifdef TPSERVE_WITH_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int num_threads);
#endif

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
namespace tpserve::cpu::simd_avx512 {
#include "kernels/cpu/linear_kernels.inc"
}
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace tpserve::cpu::simd_avx2 {
#include "kernels/cpu/linear_kernels.inc"
}
#pragma GCC pop_options

namespace tpserve::cpu::simd_portable {
#include "kernels/cpu/linear_kernels.inc"
}

namespace tpserve::cpu {

namespace {

// Up to this many x rows the weight-streaming GEMV wins (each weight row is read once and
// reused for every x row from registers/L1); above it, a GEMM. Measured on a 2-core Zen 4
// (AVX-512, [512 x 4096] bf16, one thread): GEMV 120 GFLOP/s at m=32, the packed GEMM 90.
constexpr int64_t kGemvMaxRows = 40;
// OpenBLAS panel: rows of W converted to fp32 per cblas_sgemm call.
constexpr int64_t kBlasPanelRows = 128;

using RowsFn = void (*)(const float* x, int64_t m, const void* w, int64_t k, int64_t n, const float* bias,
                        int64_t n0, int64_t n1, float* y);
using GemmFn = void (*)(const float* x, int64_t m, const void* w, int64_t k, int64_t n, const float* bias,
                        int64_t n0, int64_t n1, float* y, float* pack);

template <DType D>
RowsFn gemv_fn(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return simd_avx512::gemv_rows<D>;
    case Isa::Avx2: return simd_avx2::gemv_rows<D>;
    case Isa::Portable: break;
  }
  return simd_portable::gemv_rows<D>;
}

using SplitFn = void (*)(const float* x, int64_t k, float* xs);

RowsFn pairs_fn(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return simd_avx512::gemv_rows<DType::BF16, true>;
    case Isa::Avx2: return simd_avx2::gemv_rows<DType::BF16, true>;
    case Isa::Portable: break;
  }
  return simd_portable::gemv_rows<DType::BF16, true>;
}

SplitFn split_pairs_fn(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return simd_avx512::split_pairs;
    case Isa::Avx2: return simd_avx2::split_pairs;
    case Isa::Portable: break;
  }
  return simd_portable::split_pairs;
}

template <DType D>
GemmFn gemm_fn(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return simd_avx512::gemm_rows<D>;
    case Isa::Avx2: return simd_avx2::gemm_rows<D>;
    case Isa::Portable: break;
  }
  return simd_portable::gemm_rows<D>;
}

template <typename Fn>
Fn pick(DType dtype, Isa isa, Fn (*f32)(Isa), Fn (*f16)(Isa), Fn (*bf16)(Isa)) {
  switch (dtype) {
    case DType::F32: return f32(isa);
    case DType::F16: return f16(isa);
    case DType::BF16: return bf16(isa);
    default: break;  // quantized storage: kernels/cpu/linear_quantized.cpp
  }
  TPS_THROW("linear: unsupported weight dtype ", static_cast<int>(dtype));
}

#ifdef TPSERVE_WITH_OPENBLAS
void blas_rows(const float* x, int64_t m, const Tensor& weight, int64_t k, int64_t n, const float* bias, int64_t n0,
               int64_t n1, float* y, const VecOps& ops) {
  thread_local std::vector<float> panel;  // [kBlasPanelRows, k] fp32 copy of W rows
  for (int64_t p0 = n0; p0 < n1; p0 += kBlasPanelRows) {
    const int64_t rows = std::min(kBlasPanelRows, n1 - p0);
    const float* wp;
    if (weight.dtype() == DType::F32) {
      wp = weight.ptr<float>() + p0 * k;
    } else {
      panel.resize(static_cast<size_t>(kBlasPanelRows * k));
      ops.to_f32(static_cast<const char*>(weight.data()) + p0 * k * 2, weight.dtype(), panel.data(), rows * k);
      wp = panel.data();
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(rows),
                static_cast<int>(k), 1.0f, x, static_cast<int>(k), wp, static_cast<int>(k), 0.0f, y + p0,
                static_cast<int>(n));
  }
  if (bias)
    for (int64_t i = 0; i < m; i++) ops.add(y + i * n + n0, bias + n0, y + i * n + n0, n1 - n0);
}
#endif

// Backend for large m, TPSERVE_CPU_GEMM=blas|builtin to force one. Default: the built-in
// AVX-512 kernel (measured 2x Debian's OpenBLAS on Zen 4: 170 vs 86 GFLOP/s per core at
// m=256, bf16 or f32), OpenBLAS on the AVX2 and portable paths (on par / 8x faster).
bool use_blas(Isa isa) {
#ifdef TPSERVE_WITH_OPENBLAS
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });  // our pool does the threading
  const char* env = std::getenv("TPSERVE_CPU_GEMM");
  if (env && *env) {
    const std::string want(env);
    TPS_CHECK(want == "blas" || want == "builtin", "TPSERVE_CPU_GEMM='", want, "' is not one of blas, builtin");
    return want == "blas";
  }
  return isa != Isa::Avx512;
#else
  return false;
#endif
}

}  // namespace

const char* linear_isa() { return isa_name(active_isa()); }

void linear(const float* x, const Tensor& weight, const Tensor* bias, int64_t m, float* y, bool batch_invariant) {
  TPS_CHECK(weight.device().is_cpu(), "linear: weight is not on the CPU");
  TPS_CHECK(weight.rank() == 2, "linear: weight must be [n, k], got ", weight.shape_string());
  TPS_CHECK(m >= 0, "linear: negative row count ", m);
  const int64_t n = weight.dim(0), k = weight.dim(1);
  TPS_CHECK(weight.data() != nullptr || n * k == 0, "linear: weight has no data");
  TPS_CHECK(x != nullptr && y != nullptr, "linear: null x or y");
  TPS_CHECK(y + m * n <= x || x + m * k <= y || m == 0, "linear: y must not alias x");
  if (bias) {
    TPS_CHECK(bias->device().is_cpu(), "linear: bias is not on the CPU");
    TPS_CHECK(bias->numel() == n, "linear: bias has ", bias->numel(), " elements, weight ", weight.shape_string(),
              " needs ", n);
  }
  if (m == 0 || n == 0) return;
  const Isa isa = active_isa();
  const VecOps& ops = vec_ops(isa);
  // bias: [n] fp32 (kept per thread: no allocation per call once grown)
  thread_local std::vector<float> bias_f32;
  if (bias) {
    bias_f32.resize(static_cast<size_t>(n));
    ops.to_f32(bias->data(), bias->dtype(), bias_f32.data(), n);
  }
  const float* b = bias ? bias_f32.data() : nullptr;
  if (k == 0) {
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) y[i * n + j] = b ? b[j] : 0.f;
    return;
  }
  const void* w = weight.data();
  const DType dt = weight.dtype();
  const double flops_per_row = 2.0 * static_cast<double>(k) * static_cast<double>(m);

  if (m <= kGemvMaxRows || batch_invariant) {
    const float* xg = x;
    RowsFn fn;
    if (dt == DType::BF16) {
      // x rows split into even/odd halves per block once here, read by every thread
      thread_local std::vector<float> split;
      split.resize(static_cast<size_t>(m * k));
      SplitFn split_fn = split_pairs_fn(isa);
      for (int64_t i = 0; i < m; i++) split_fn(x + i * k, k, split.data() + i * k);
      xg = split.data();
      fn = pairs_fn(isa);
    } else {
      fn = pick<RowsFn>(dt, isa, gemv_fn<DType::F32>, gemv_fn<DType::F16>, gemv_fn<DType::BF16>);
    }
    for_row_stripes(n, 16, flops_per_row, [&](int64_t n0, int64_t n1) { fn(xg, m, w, k, n, b, n0, n1, y); });
    return;
  }
#ifdef TPSERVE_WITH_OPENBLAS
  if (use_blas(isa)) {
    for_row_ranges(n, 64, flops_per_row, [&](int64_t n0, int64_t n1) { blas_rows(x, m, weight, k, n, b, n0, n1, y, ops); });
    return;
  }
#endif
  GemmFn fn = pick<GemmFn>(dt, isa, gemm_fn<DType::F32>, gemm_fn<DType::F16>, gemm_fn<DType::BF16>);
  for_row_ranges(n, 64, flops_per_row, [&](int64_t n0, int64_t n1) {
    thread_local std::vector<float> pack;  // [kGemmNC / 2W panels][kGemmKC][2W] fp32
    pack.resize(static_cast<size_t>(simd_avx512::kGemmKC * (simd_avx512::kGemmNC + 32)));
    fn(x, m, w, k, n, b, n0, n1, y, pack.data());
  });
}

}  // namespace tpserve::cpu
