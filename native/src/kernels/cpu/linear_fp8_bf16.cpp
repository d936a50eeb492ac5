// fp8 e4m3 GEMV through bf16 dot products (see linear_fp8_bf16.h).
#include "kernels/cpu/linear_fp8_bf16.h"

#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/simd.h"
#include <array>

#include "tpserve/dtype.h"

namespace tpserve::cpu {

bool has_avx512_bf16() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx512bf16");
  }();
  return has;
#else
  return false;
#endif
}

namespace {
// Position in a 64-column chunk of the element that unpacking puts at slot s (see the header).
int64_t chunk_column(int64_t s) {
  const int64_t half = s / 32, lane = (s % 32) / 8, e = s % 8;
  return lane * 16 + half * 8 + e;
}

// High / low bytes of the bf16 value of each e4m3 magnitude code 0..127.
struct Fp8Tables {
  alignas(64) std::array<uint8_t, 128> hi{}, lo{};
  Fp8Tables() {
    for (int v = 0; v < 128; v++) {
      const uint16_t b = float_to_bf16(fp8_e4m3_to_float(static_cast<uint8_t>(v)));
      hi[v] = static_cast<uint8_t>(b >> 8);
      lo[v] = static_cast<uint8_t>(b & 0xff);
    }
  }
};
const Fp8Tables& fp8_tables() {
  static const Fp8Tables t;
  return t;
}
}  // namespace

void bf16_activation(const float* x, int64_t m, int64_t k, Bf16Activation& out) {
  out.m = m;
  out.k = k;
  out.stride = (k + 63) / 64 * 64;
  out.v.assign(static_cast<size_t>(m * out.stride), 0);
  for (int64_t i = 0; i < m; i++)
    for (int64_t c0 = 0; c0 < k; c0 += 64)
      for (int64_t s = 0; s < 64; s++) {
        const int64_t c = c0 + chunk_column(s);
        if (c < k) out.v[static_cast<size_t>(i * out.stride + c0 + s)] = float_to_bf16(x[i * k + c]);
      }
}

}  // namespace tpserve::cpu

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512bf16,avx2,fma")
#include "kernels/cpu/quant_row_passes.h"

namespace tpserve::cpu {
namespace {

constexpr int64_t kPrefetchPasses = 2;  // weight rows prefetched two passes of R rows ahead (linear_vnni.cpp)

// part[i * R + j] = sum_c x[i, c] * fp8(w[j, c]) for R weight rows, M activation rows.
template <int R, int M>
inline void fp8_block(const Bf16Activation& x, int64_t i0, const uint8_t* const* wrow, float* part) {
  const int64_t ahead = kPrefetchPasses * R * x.k;
  const Fp8Tables& t = fp8_tables();
  const __m512i hi0 = _mm512_load_si512(t.hi.data()), hi1 = _mm512_load_si512(t.hi.data() + 64);
  const __m512i lo0 = _mm512_load_si512(t.lo.data()), lo1 = _mm512_load_si512(t.lo.data() + 64);
  const __m512i sign = _mm512_set1_epi8(static_cast<char>(0x80));
  const int64_t k = x.k;
  __m512 acc[M][R];
  for (int i = 0; i < M; i++)
    for (int j = 0; j < R; j++) acc[i][j] = _mm512_setzero_ps();
  for (int64_t c0 = 0; c0 < k; c0 += 64) {
    const __mmask64 mask = k - c0 >= 64 ? ~__mmask64{0} : (__mmask64{1} << (k - c0)) - 1;
    __m512bh wa[R], wb[R];
    for (int j = 0; j < R; j++) {
      _mm_prefetch(reinterpret_cast<const char*>(wrow[j] + c0 + ahead), _MM_HINT_T0);
      const __m512i v = _mm512_maskz_loadu_epi8(mask, wrow[j] + c0);
      // high byte: the table's, with the code's sign bit; low byte: the table's
      const __m512i h = _mm512_ternarylogic_epi32(_mm512_permutex2var_epi8(hi0, v, hi1), v, sign, 0xf8);
      const __m512i l = _mm512_permutex2var_epi8(lo0, v, lo1);
      wa[j] = reinterpret_cast<__m512bh>(_mm512_unpacklo_epi8(l, h));
      wb[j] = reinterpret_cast<__m512bh>(_mm512_unpackhi_epi8(l, h));
    }
    for (int i = 0; i < M; i++) {
      const uint16_t* xr = x.row(i0 + i) + c0;
      const __m512bh xa = reinterpret_cast<__m512bh>(_mm512_loadu_si512(xr));
      const __m512bh xb = reinterpret_cast<__m512bh>(_mm512_loadu_si512(xr + 32));
      for (int j = 0; j < R; j++) acc[i][j] = _mm512_dpbf16_ps(_mm512_dpbf16_ps(acc[i][j], wa[j], xa), wb[j], xb);
    }
  }
  for (int i = 0; i < M; i++)
    for (int j = 0; j < R; j++) part[i * R + j] = simd_avx512::S::hsum(acc[i][j]);
}

template <int R, int M>
void fp8_rows_rm(const Bf16Activation& x, const uint8_t* w, const float* scales, int64_t n, const float* bias,
                 int64_t n0, int64_t n1, float* y) {
  quant_rows::for_row_passes<R, M>(x.m, n, n0, n1, scales, bias, y, [&](auto rc, auto mc, int64_t row, int64_t i0, float* part) {
    const uint8_t* wrow[decltype(rc)::value];
    for (int j = 0; j < decltype(rc)::value; j++) wrow[j] = w + static_cast<size_t>(row + j) * static_cast<size_t>(x.k);
    fp8_block<decltype(rc)::value, decltype(mc)::value>(x, i0, wrow, part);
  });
}

}  // namespace

void fp8_bf16_rows(const Bf16Activation& x, const uint8_t* w, const float* scales, int64_t n, const float* bias,
                   int64_t n0, int64_t n1, float* y) {
  if (x.m == 1) fp8_rows_rm<8, 1>(x, w, scales, n, bias, n0, n1, y);
  else fp8_rows_rm<4, 4>(x, w, scales, n, bias, n0, n1, y);
}
#pragma GCC pop_options

}  // namespace tpserve::cpu
