// CPU quantized linear: shape checks, the act-order gather of x, the choice of kernel, the even/odd
// split and group sums int4 needs, and the split of output rows over the thread pool.
//   decode (m <= 40): dot-product kernels on AVX-512 (int8 / int4 with int8 activations:
//     linear_vnni_tiles.h on the 16-row tiles the CPU backend loads them in (cpu_weight_layout),
//     linear_vnni.h on the row-major layout; fp8 with bf16 activations: linear_fp8_bf16.h) unless
//     TPSERVE_CPU_QUANT_DOT=float or the CPU lacks them; otherwise fp32 GEMV kernels that dequantize
//     in registers (a tiled weight there: the prefill path);
//   prefill: SIMD-dequantized fp32 panels through the float GEMM (x stays fp32; dequantize_tiles.h
//     for tiled weights).
// fp32 kernel bodies: linear_quantized_kernels.inc. Tests: tests/linear_quantized_test.cpp (every
// SIMD path against a scalar dequantize-then-dot), linear_vnni_test.cpp, linear_fp8_bf16_test.cpp,
// linear_weight_tiles_test.cpp.
#include "kernels/cpu/linear_quantized.h"

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstdlib>
#include <string>
#include <cstring>
#include <vector>

#include "kernels/cpu/dequantize_tiles.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/linear_bf16_tiles.h"
#include "kernels/cpu/linear_fp8_bf16.h"
#include "kernels/cpu/linear_vnni.h"
#include "kernels/cpu/linear_vnni_tiles.h"
#include "kernels/cpu/quantize_activation.h"
#include "kernels/cpu/row_ranges.h"
#include "kernels/cpu/simd_quant.h"
#include "tpserve/linear_weight_tiles.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
namespace tpserve::cpu::simd_avx512 {
#include "kernels/cpu/linear_quantized_kernels.inc"
}
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace tpserve::cpu::simd_avx2 {
#include "kernels/cpu/linear_quantized_kernels.inc"
}
#pragma GCC pop_options

namespace tpserve::cpu::simd_portable {
#include "kernels/cpu/linear_quantized_kernels.inc"
}

namespace tpserve::cpu {
namespace {

std::atomic<int>& quantized_dot_slot() {
  static std::atomic<int> slot{-1};
  return slot;
}

// Up to this many x rows the GEMV kernels stream W once; above it, dequantizing W into fp32 panels
// for the float GEMM costs less than the GEMV's repeated passes.
constexpr int64_t kQuantGemvMaxRows = 40;
constexpr int64_t kDequantPanelRows = 64;  // a [64, k] fp32 panel stays in L2

using Q8Fn = void (*)(const float*, int64_t, const uint8_t*, const float*, int64_t, int64_t, const float*, int64_t,
                      int64_t, float*);
using Q4Fn = void (*)(const float*, const float*, int64_t, const uint8_t*, const float*, const float*, int64_t,
                      int64_t, int64_t, const float*, int64_t, int64_t, float*);

template <bool F8>
Q8Fn q8_fn(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return simd_avx512::q8_rows<F8>;
    case Isa::Avx2: return simd_avx2::q8_rows<F8>;
    case Isa::Portable: break;
  }
  return simd_portable::q8_rows<F8>;
}

Q4Fn q4_fn(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return simd_avx512::q4_rows;
    case Isa::Avx2: return simd_avx2::q4_rows;
    case Isa::Portable: break;
  }
  return simd_portable::q4_rows;
}

using Q8PanelFn = void (*)(const uint8_t*, const float*, int64_t, int64_t, int64_t, float*);
using Q4PanelFn = void (*)(const uint8_t*, const float*, const float*, int64_t, int64_t, int64_t, int64_t, float*);

template <bool F8>
Q8PanelFn q8_panel_fn(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return simd_avx512::q8_panel<F8>;
    case Isa::Avx2: return simd_avx2::q8_panel<F8>;
    case Isa::Portable: break;
  }
  return simd_portable::q8_panel<F8>;
}

Q4PanelFn q4_panel_fn(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return simd_avx512::q4_panel;
    case Isa::Avx2: return simd_avx2::q4_panel;
    case Isa::Portable: break;
  }
  return simd_portable::q4_panel;
}

// Each row of x ([m, k]) as its k / 2 even columns, then its k / 2 odd ones.
void split_even_odd(const float* x, int64_t m, int64_t k, std::vector<float>& xs) {
  const int64_t half = k / 2;
  xs.resize(static_cast<size_t>(m * k));
  for (int64_t i = 0; i < m; i++) {
    const float* xr = x + i * k;
    float* o = xs.data() + i * k;
    for (int64_t c = 0; c < half; c++) {
      o[c] = xr[2 * c];
      o[half + c] = xr[2 * c + 1];
    }
  }
}

// The tile layout of linear_weight_tiles.h.
void check_tiled_weight(const LinearWeight& w) {
  const int64_t n = w.out_features(), k = w.in_features(), rows = (n + kWeightTileRows - 1) / kWeightTileRows * kWeightTileRows;
  const int64_t groups = w.format == WeightFormat::Int4 && w.group_size > 0 ? k / w.group_size : 1;
  TPS_CHECK(w.tile_rows == kWeightTileRows && w.weight.dtype() == DType::U8 &&
                (w.format == WeightFormat::Int8 ||
                 (w.format == WeightFormat::Int4 && w.group_size % kActBlock == 0 && k % w.group_size == 0 &&
                  w.zeros.numel() == rows * groups && w.scales.dtype() == DType::F16 && w.zeros.dtype() == DType::F16)) &&
                w.weight.numel() == rows * tiled_row_bytes(w) && w.scales.numel() == rows * groups,
            "linear_quantized: malformed tiled ", weight_format_name(w.format), " weight ", w.weight.shape_string());
}

void check_weight(const LinearWeight& w) {
  const int64_t n = w.out_features(), k = w.in_features();
  TPS_CHECK(w.weight.device().is_cpu(), "linear_quantized: weight is not on the CPU");
  TPS_CHECK(w.scales.defined() && w.scales.device().is_cpu(), "linear_quantized: ", weight_format_name(w.format),
            " weight has no CPU scales");
  if (w.perm.defined())
    TPS_CHECK(w.perm.dtype() == DType::I32 && w.perm.numel() == k, "linear_quantized: perm must be [", k, "] I32");
  if (w.tile_rows != 0) return check_tiled_weight(w);
  switch (w.format) {
    case WeightFormat::Int8:
    case WeightFormat::Fp8:
      TPS_CHECK(w.weight.dtype() == (w.format == WeightFormat::Int8 ? DType::I8 : DType::F8_E4M3) &&
                    w.weight.numel() == n * k && w.scales.numel() == n,
                "linear_quantized: malformed ", weight_format_name(w.format), " weight ", w.weight.shape_string());
      break;
    case WeightFormat::Int4:
      TPS_CHECK(w.group_size > 0 && w.group_size % 32 == 0 && k % w.group_size == 0 && w.weight.dtype() == DType::U8 &&
                    w.weight.numel() == n * k / 2 && w.scales.numel() == n * (k / w.group_size) &&
                    w.zeros.defined() && w.zeros.numel() == w.scales.numel(),
                "linear_quantized: malformed int4 weight ", w.weight.shape_string(), " (group ", w.group_size, ")");
      break;
    case WeightFormat::Float: TPS_THROW("linear_quantized: the weight is not quantized");
  }
}

bool use_int8_dot(const LinearWeight& w, Isa isa) {
  if (isa != Isa::Avx512 || quantized_dot() != QuantizedDot::Low || !has_avx512_vnni()) return false;
  return w.format == WeightFormat::Int8 || (w.format == WeightFormat::Int4 && w.group_size % kActBlock == 0);
}

// Decode on AVX-512 VNNI: x quantized to int8 per 128-column block, integer dot products.
void int8_dot_gemv(const float* x, const LinearWeight& w, const float* bias, int64_t m, float* y) {
  const int64_t n = w.out_features(), k = w.in_features();
  // (a thread_local named inside the lambdas would be each pool thread's own: pass references)
  thread_local QuantizedActivation xq_buffer;
  QuantizedActivation& xq = xq_buffer;
  const double work = 2.0 * static_cast<double>(k) * static_cast<double>(m);
  const auto* q = w.weight.ptr<const uint8_t>();
  const float* s = w.scales.ptr<const float>();
  if (w.format == WeightFormat::Int8) {
    quantize_activation(x, m, k, ActLayout::Plain, xq);
    for_row_stripes(n, 16, work, [&](int64_t n0, int64_t n1) {
      if (w.tile_rows != 0) q8_tiles_rows(xq, w, bias, n0, n1, y);
      else q8_vnni_rows(xq, q, s, n, bias, n0, n1, y);
    });
    return;
  }
  const bool tiled = w.tile_rows != 0;
  quantize_activation(x, m, k, tiled ? ActLayout::Plain : ActLayout::EvenOdd, xq);
  const int64_t g = w.group_size, ng = k / g, per_group = g / kActBlock;
  thread_local std::vector<float> group_sums_buffer;
  std::vector<float>& group_sums = group_sums_buffer;
  group_sums.assign(static_cast<size_t>(m * ng), 0.f);
  for (int64_t i = 0; i < m; i++)
    for (int64_t b = 0; b < xq.blocks; b++) {
      const size_t at = static_cast<size_t>(i * xq.blocks + b);
      group_sums[static_cast<size_t>(i * ng + b / per_group)] += xq.scales[at] * static_cast<float>(xq.sums[at]);
    }
  const float* z = w.zeros.ptr<const float>();
  for_row_stripes(n, 16, work, [&](int64_t n0, int64_t n1) {
    if (tiled) q4_tiles_rows(xq, group_sums.data(), w, bias, n0, n1, y);
    else q4_vnni_rows(xq, group_sums.data(), q, s, z, n, g, bias, n0, n1, y);
  });
}

bool use_bf16_dot(const LinearWeight& w, Isa isa) {
  return isa == Isa::Avx512 && w.format == WeightFormat::Fp8 && quantized_dot() == QuantizedDot::Low &&
         has_avx512_bf16();
}

// Decode of fp8 weights on AVX512-BF16: x rounded to bf16, bf16 dot products.
void bf16_dot_gemv(const float* x, const LinearWeight& w, const float* bias, int64_t m, float* y) {
  const int64_t n = w.out_features(), k = w.in_features();
  thread_local Bf16Activation xb_buffer;
  Bf16Activation& xb = xb_buffer;
  bf16_activation(x, m, k, xb);
  const auto* q = w.weight.ptr<const uint8_t>();
  const float* s = w.scales.ptr<const float>();
  for_row_stripes(n, 16, 2.0 * static_cast<double>(k) * static_cast<double>(m),
                 [&](int64_t n0, int64_t n1) { fp8_bf16_rows(xb, q, s, n, bias, n0, n1, y); });
}

// Prefill: fp32 panels of W (dequantized with SIMD, in parallel) through the float GEMM, copied into
// y's columns. x is in the stored column order (act-order gathered).
void dequantized_gemm(const float* x, const LinearWeight& w, const float* bias, int64_t m, float* y, Isa isa,
                      bool batch_invariant) {
  const int64_t n = w.out_features(), k = w.in_features();
  const bool tiled = w.tile_rows != 0, int4 = w.format == WeightFormat::Int4 && !tiled;
  thread_local std::vector<float> xs_buffer;
  std::vector<float>& xs = xs_buffer;
  if (int4) {
    split_even_odd(x, m, k, xs);
    x = xs.data();
  }
  const auto* q = w.weight.ptr<const uint8_t>();
  const float* s = w.scales.ptr<const float>();
  const Q8PanelFn q8 = w.format == WeightFormat::Fp8 ? q8_panel_fn<true>(isa) : q8_panel_fn<false>(isa);
  const Q4PanelFn q4 = q4_panel_fn(isa);
  // each pool thread dequantizes its own L2-sized panels and runs the GEMM on them inline
  for_row_ranges(n, kDequantPanelRows, 2.0 * static_cast<double>(k) * static_cast<double>(m), [&](int64_t a, int64_t e) {
    thread_local std::vector<float> panel, out;
    panel.resize(static_cast<size_t>(kDequantPanelRows * k));
    out.resize(static_cast<size_t>(m * kDequantPanelRows));
    for (int64_t r0 = a; r0 < e; r0 += kDequantPanelRows) {
      const int64_t rows = std::min(kDequantPanelRows, e - r0);
      if (tiled) dequantize_tile_rows(w, r0, r0 + rows, panel.data());  // stored column order
      else if (int4) q4(q, s, w.zeros.ptr<const float>(), k, w.group_size, r0, r0 + rows, panel.data());
      else q8(q, s, k, r0, r0 + rows, panel.data());
      linear(x, Tensor(panel.data(), DType::F32, {rows, k}), nullptr, m, out.data(), batch_invariant);
      for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < rows; j++) y[i * n + r0 + j] = out[i * rows + j] + (bias ? bias[r0 + j] : 0.f);
    }
  });
}

}  // namespace

void linear_quantized(const float* x, const LinearWeight& w, const Tensor* bias, int64_t m, float* y, bool batch_invariant) {
  check_weight(w);
  const int64_t n = w.out_features(), k = w.in_features();
  TPS_CHECK(m >= 0 && x != nullptr && y != nullptr, "linear_quantized: bad x / y");
  TPS_CHECK(y + m * n <= x || x + m * k <= y || m == 0, "linear_quantized: y must not alias x");
  std::vector<float> bias_f32;
  if (bias) {
    TPS_CHECK(bias->device().is_cpu() && bias->numel() == n, "linear_quantized: bias has ", bias->numel(),
              " elements, the weight needs ", n);
    bias_f32.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; j++) bias_f32[j] = load_as_float(bias->data(), bias->dtype(), static_cast<size_t>(j));
  }
  const float* b = bias ? bias_f32.data() : nullptr;
  if (m == 0 || n == 0) return;
  const Isa isa = active_isa();
  // act-order: gather x into the stored column order once for all output rows
  thread_local std::vector<float> gathered;
  if (w.perm.defined()) {
    gathered.resize(static_cast<size_t>(m * k));
    const int32_t* perm = w.perm.ptr<const int32_t>();
    for (int64_t i = 0; i < m; i++)
      for (int64_t c = 0; c < k; c++) gathered[i * k + c] = x[i * k + perm[c]];
    x = gathered.data();
  }
  // decode only: prefill keeps x in fp32, its logits those of the dequantized weights
  const bool int8_dot = use_int8_dot(w, isa), bf16_dot = use_bf16_dot(w, isa);
  // (a tiled weight without the VNNI path, e.g. TPSERVE_CPU_QUANT_DOT=float after load: fp32 panels)
  if ((m > kQuantGemvMaxRows && !batch_invariant) || (w.tile_rows != 0 && !int8_dot)) return dequantized_gemm(x, w, b, m, y, isa, batch_invariant);
  const double work = 2.0 * static_cast<double>(k) * static_cast<double>(m);
  if (int8_dot) return int8_dot_gemv(x, w, b, m, y);
  if (bf16_dot) return bf16_dot_gemv(x, w, b, m, y);
  if (w.format != WeightFormat::Int4) {
    Q8Fn fn = w.format == WeightFormat::Fp8 ? q8_fn<true>(isa) : q8_fn<false>(isa);
    const auto* q = w.weight.ptr<const uint8_t>();
    const float* s = w.scales.ptr<const float>();
    for_row_stripes(n, 16, work, [&](int64_t n0, int64_t n1) { fn(x, m, q, s, k, n, b, n0, n1, y); });
    return;
  }
  // int4: x split into even / odd columns and summed per group, once for all output rows
  const int64_t g = w.group_size, ng = k / g;
  thread_local std::vector<float> xs, xsum;
  split_even_odd(x, m, k, xs);
  xsum.assign(static_cast<size_t>(m * ng), 0.f);
  for (int64_t i = 0; i < m; i++)
    for (int64_t gi = 0; gi < ng; gi++)
      for (int64_t c = gi * g; c < (gi + 1) * g; c++) xsum[i * ng + gi] += x[i * k + c];
  Q4Fn fn = q4_fn(isa);
  const float* xsp = xs.data();
  const float* xsump = xsum.data();
  for_row_stripes(n, 16, work, [&](int64_t n0, int64_t n1) {
    fn(xsp, xsump, m, w.weight.ptr<const uint8_t>(), w.scales.ptr<const float>(), w.zeros.ptr<const float>(), k, n, g,
       b, n0, n1, y);
  });
}

QuantizedDot reload_quantized_dot() {
  const char* env = std::getenv("TPSERVE_CPU_QUANT_DOT");
  QuantizedDot dot = QuantizedDot::Low;
  if (env && *env) {
    const std::string want(env);
    TPS_CHECK(want == "float" || want == "low", "TPSERVE_CPU_QUANT_DOT='", want, "' is not one of float, low");
    if (want == "float") dot = QuantizedDot::Float;
  }
  quantized_dot_slot().store(static_cast<int>(dot), std::memory_order_relaxed);
  return dot;
}

QuantizedDot quantized_dot() {
  const int v = quantized_dot_slot().load(std::memory_order_relaxed);
  return v < 0 ? reload_quantized_dot() : static_cast<QuantizedDot>(v);
}

LinearWeight cpu_weight_layout(const LinearWeight& w) {
  return can_tile_weight(w) && use_int8_dot(w, active_isa()) ? tile_weight(w) : w;
}

void linear_any(const float* x, const LinearWeight& weight, const Tensor* bias, int64_t m, float* y, bool batch_invariant) {
  if (weight.is_quantized()) linear_quantized(x, weight, bias, m, y, batch_invariant);
  else if (weight.tile_rows != 0) linear_bf16_tiles(x, weight, bias, m, y, batch_invariant);
  else linear(x, weight.weight, bias, m, y, batch_invariant);
}

}  // namespace tpserve::cpu
