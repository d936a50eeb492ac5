// AVX-512 VNNI quantized GEMV kernels (see linear_vnni.h). R weight rows times M activation rows
// per pass, each weight vector loaded once per pass; int32 dot products per 128-column block,
// scaled into fp32 accumulators.
#include "kernels/cpu/linear_vnni.h"

#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/simd.h"

namespace tpserve::cpu {

bool has_avx512_vnni() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  }();
  return has;
#else
  return false;
#endif
}

}  // namespace tpserve::cpu

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")
#include "kernels/cpu/quant_row_passes.h"

namespace tpserve::cpu {
namespace {

// Software prefetch of the weight bytes two passes of R rows ahead (rows are contiguous, so a
// fixed distance inside a row mostly lands on the rows already streaming; measured with
// bench/quant_gemv_bench: none ~11 GB/s, 512 bytes ~20, one or two passes ~22-25 on one thread).
constexpr int64_t kPrefetchPasses = 2;
inline int64_t prefetch_ahead(int rows, int64_t row_bytes) { return kPrefetchPasses * rows * row_bytes; }

// (simd.h's sum avoids GCC 12's false -Wuninitialized inside _mm512_reduce_add_ps)
inline float hsum(__m512 v) { return simd_avx512::S::hsum(v); }

inline __m512i load_bytes(const uint8_t* p, __mmask64 mask) { return _mm512_maskz_loadu_epi8(mask, p); }

inline __mmask64 tail_mask(int64_t left) {
  return left >= 64 ? ~__mmask64{0} : left <= 0 ? __mmask64{0} : ((__mmask64{1} << left) - 1);
}

// part[i * R + j] = sum_b sx[i, b] * dot(xq[i, b], w[j, b]) for R weight rows, M activation rows.
template <int R, int M>
inline void q8_block(const QuantizedActivation& x, int64_t i0, const uint8_t* const* wrow, int64_t ahead, float* part) {
  const int64_t k = x.k;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512 acc[M][R];
  for (int i = 0; i < M; i++)
    for (int j = 0; j < R; j++) acc[i][j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < x.blocks; b++) {
    const int64_t c0 = b * kActBlock;
    const __mmask64 m0 = tail_mask(k - c0), m1 = tail_mask(k - c0 - 64);
    __m512i w0[R], w1[R];
    for (int j = 0; j < R; j++) {
      if (ahead > 0) {
        _mm_prefetch(reinterpret_cast<const char*>(wrow[j] + c0 + ahead), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(wrow[j] + c0 + ahead + 64), _MM_HINT_T0);
      }
      w0[j] = _mm512_xor_si512(load_bytes(wrow[j] + c0, m0), flip);
      w1[j] = _mm512_xor_si512(load_bytes(wrow[j] + c0 + 64, m1), flip);
    }
    for (int i = 0; i < M; i++) {
      const int8_t* xr = x.row(i0 + i) + c0;
      const __m512i xa = _mm512_loadu_si512(xr), xb = _mm512_loadu_si512(xr + 64);
      const size_t at = static_cast<size_t>((i0 + i) * x.blocks + b);
      // lane 0 starts at -128 * sum(xq): the flip's +128 on every weight cancels exactly
      const __m512i init = _mm512_maskz_set1_epi32(1, -128 * x.sums[at]);
      const __m512 sx = _mm512_set1_ps(x.scales[at]);
      for (int j = 0; j < R; j++) {
        __m512i d = _mm512_dpbusd_epi32(init, w0[j], xa);
        d = _mm512_dpbusd_epi32(d, w1[j], xb);
        acc[i][j] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(0xffff, d), sx, acc[i][j]);
      }
    }
  }
  for (int i = 0; i < M; i++)
    for (int j = 0; j < R; j++) part[i * R + j] = hsum(acc[i][j]);
}

// part[i * R + j] = sum_b sx[i, b] * s[j, g(b)] * dot(xq[i, b], q[j, b])
//                   - sum_g s[j, g] * z[j, g] * act_group_sums[i, g].
// The zero-point term is subtracted lane-wise (lane = group) from the accumulator before its one
// horizontal sum. The factors sx * s of 16 blocks at a time are multiplied as vectors into f, so that each block
// costs one conversion and one fma with a broadcast operand per (row, activation row).
template <int R, int M>
inline void q4_block(const QuantizedActivation& x, int64_t i0, const uint8_t* const* wrow, const float* const* s,
                     const float* const* z, const float* act_group_sums, int64_t g, int64_t ahead, float* part) {
  const __m512i low = _mm512_set1_epi8(0x0f);
  const int64_t per_group = g / kActBlock;
  alignas(64) float f[M][R][16];
  __m512 acc[M][R];
  for (int i = 0; i < M; i++)
    for (int j = 0; j < R; j++) acc[i][j] = _mm512_setzero_ps();
  for (int64_t b0 = 0; b0 < x.blocks; b0 += 16) {
    const int64_t nb = std::min<int64_t>(16, x.blocks - b0);
    const __mmask16 mk = static_cast<__mmask16>((1u << nb) - 1u);
    for (int i = 0; i < M; i++) {
      const __m512 sx = _mm512_maskz_loadu_ps(mk, x.scales.data() + (i0 + i) * x.blocks + b0);
      for (int j = 0; j < R; j++) {
        __m512 sv;
        if (per_group == 1) {
          sv = _mm512_maskz_loadu_ps(mk, s[j] + b0);
        } else {  // groups of several blocks: each block's group scale
          alignas(64) float tmp[16] = {};
          for (int64_t t = 0; t < nb; t++) tmp[t] = s[j][(b0 + t) / per_group];
          sv = _mm512_load_ps(tmp);
        }
        _mm512_store_ps(f[i][j], _mm512_mul_ps(sx, sv));
      }
    }
    for (int64_t t = 0; t < nb; t++) {
      const int64_t b = b0 + t;
      __m512i lo[R], hi[R];
      for (int j = 0; j < R; j++) {
        const uint8_t* p = wrow[j] + b * 64;
        if (ahead > 0) _mm_prefetch(reinterpret_cast<const char*>(p + ahead), _MM_HINT_T0);
        const __m512i v = _mm512_loadu_si512(p);
        lo[j] = _mm512_and_si512(v, low);
        hi[j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
      }
      for (int i = 0; i < M; i++) {
        const int8_t* xr = x.row(i0 + i) + b * kActBlock;
        const __m512i xe = _mm512_loadu_si512(xr), xo = _mm512_loadu_si512(xr + 64);
        for (int j = 0; j < R; j++) {
          __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo[j], xe);
          d = _mm512_dpbusd_epi32(d, hi[j], xo);
          acc[i][j] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(0xffff, d), _mm512_set1_ps(f[i][j][t]), acc[i][j]);
        }
      }
    }
  }
  const int64_t ng = x.k / g;
  for (int64_t g0 = 0; g0 < ng; g0 += 16) {
    const __mmask16 mk = ng - g0 >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << (ng - g0)) - 1u);
    for (int j = 0; j < R; j++) {
      const __m512 sz = _mm512_mul_ps(_mm512_maskz_loadu_ps(mk, s[j] + g0), _mm512_maskz_loadu_ps(mk, z[j] + g0));
      for (int i = 0; i < M; i++)
        acc[i][j] = _mm512_fnmadd_ps(sz, _mm512_maskz_loadu_ps(mk, act_group_sums + (i0 + i) * ng + g0), acc[i][j]);
    }
  }
  for (int i = 0; i < M; i++)
    for (int j = 0; j < R; j++) part[i * R + j] = hsum(acc[i][j]);
}

template <int R, int M>
void q8_rows_rm(const QuantizedActivation& x, const uint8_t* w, const float* scales, int64_t n, const float* bias,
                int64_t n0, int64_t n1, float* y) {
  const int64_t k = x.k, ahead = prefetch_ahead(R, k);
  quant_rows::for_row_passes<R, M>(x.m, n, n0, n1, scales, bias, y, [&](auto rc, auto mc, int64_t row, int64_t i0, float* part) {
    const uint8_t* wrow[decltype(rc)::value];
    for (int j = 0; j < decltype(rc)::value; j++) wrow[j] = w + static_cast<size_t>(row + j) * static_cast<size_t>(k);
    q8_block<decltype(rc)::value, decltype(mc)::value>(x, i0, wrow, ahead, part);
  });
}

template <int R, int M>
void q4_rows_rm(const QuantizedActivation& x, const float* act_group_sums, const uint8_t* w, const float* scales,
                const float* zeros, int64_t n, int64_t g, const float* bias, int64_t n0, int64_t n1, float* y) {
  const int64_t k = x.k, ng = k / g, ahead = prefetch_ahead(R, k / 2);
  quant_rows::for_row_passes<R, M>(x.m, n, n0, n1, nullptr, bias, y, [&](auto rc, auto mc, int64_t row, int64_t i0, float* part) {
    constexpr int rows = decltype(rc)::value;
    const uint8_t* wrow[rows];
    const float* s[rows];
    const float* z[rows];
    for (int j = 0; j < rows; j++) {
      wrow[j] = w + static_cast<size_t>(row + j) * static_cast<size_t>(k / 2);
      s[j] = scales + (row + j) * ng;
      z[j] = zeros + (row + j) * ng;
    }
    q4_block<rows, decltype(mc)::value>(x, i0, wrow, s, z, act_group_sums, g, ahead, part);
  });
}

}  // namespace

void q8_vnni_rows(const QuantizedActivation& x, const uint8_t* w, const float* scales, int64_t n, const float* bias,
                  int64_t n0, int64_t n1, float* y) {
  if (x.m == 1) q8_rows_rm<8, 1>(x, w, scales, n, bias, n0, n1, y);
  else q8_rows_rm<4, 4>(x, w, scales, n, bias, n0, n1, y);
}

void q4_vnni_rows(const QuantizedActivation& x, const float* act_group_sums, const uint8_t* w, const float* scales,
                  const float* zeros, int64_t n, int64_t g, const float* bias, int64_t n0, int64_t n1, float* y) {
  if (x.m == 1) q4_rows_rm<8, 1>(x, act_group_sums, w, scales, zeros, n, g, bias, n0, n1, y);
  else q4_rows_rm<4, 4>(x, act_group_sums, w, scales, zeros, n, g, bias, n0, n1, y);
}
#pragma GCC pop_options

}  // namespace tpserve::cpu
