// Per-block int8 quantization of activation rows for the VNNI quantized GEMV (see the header).
#include "kernels/cpu/quantize_activation.h"

#include <algorithm>
#include <cmath>

#include <immintrin.h>

#include "kernels/cpu/cpu_isa.h"
#include "tpserve/error.h"

namespace tpserve::cpu {
namespace {

// One block of len columns: q (in the layout), returns the block's sum of q; *scale = max|x| / 127.
int32_t quantize_block_scalar(const float* xb, int64_t len, ActLayout layout, int8_t* qb, float* scale) {
  float amax = 0.f;
  for (int64_t c = 0; c < len; c++) amax = std::max(amax, std::fabs(xb[c]));
  const float inv = amax > 0.f ? 127.f / amax : 0.f;
  int32_t sum = 0;
  for (int64_t c = 0; c < len; c++) {
    const auto v = static_cast<int8_t>(std::clamp(std::nearbyint(xb[c] * inv), -127.f, 127.f));
    qb[layout == ActLayout::Plain ? c : (c % 2 == 0 ? c / 2 : kActBlock / 2 + c / 2)] = v;
    sum += v;
  }
  *scale = amax / 127.f;
  return sum;
}

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl")
// The same for a whole block of 128 columns on AVX-512 (cvtps rounds to nearest even, as nearbyint).
int32_t quantize_block_avx512(const float* xb, ActLayout layout, int8_t* qb, float* scale) {
  __m512 v[8];
  __m512 amax = _mm512_setzero_ps();
  for (int t = 0; t < 8; t++) {
    v[t] = _mm512_loadu_ps(xb + 16 * t);
    amax = _mm512_maskz_max_ps(0xffff, amax, _mm512_abs_ps(v[t]));
  }
  // (reductions through memory: GCC 12 warns falsely inside _mm512_reduce_*)
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, amax);
  const float a = *std::max_element(lanes, lanes + 16);
  const __m512 inv = _mm512_set1_ps(a > 0.f ? 127.f / a : 0.f);
  if (layout == ActLayout::EvenOdd) {  // pairs of vectors split into their even and odd lanes
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    __m512 split[8];
    for (int t = 0; t < 4; t++) {
      split[t] = _mm512_permutex2var_ps(v[2 * t], even, v[2 * t + 1]);
      split[4 + t] = _mm512_permutex2var_ps(v[2 * t], odd, v[2 * t + 1]);
    }
    for (int t = 0; t < 8; t++) v[t] = split[t];
  }
  __m512i sum = _mm512_setzero_si512();
  for (int t = 0; t < 8; t++) {
    const __m512i q = _mm512_maskz_cvtps_epi32(0xffff, _mm512_mul_ps(v[t], inv));  // |q| <= 127 by construction
    sum = _mm512_add_epi32(sum, q);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qb + 16 * t), _mm512_maskz_cvtsepi32_epi8(0xffff, q));
  }
  *scale = a / 127.f;
  alignas(64) int32_t sums[16];
  _mm512_store_si512(sums, sum);
  int32_t total = 0;
  for (int32_t v16 : sums) total += v16;
  return total;
}
#pragma GCC pop_options

}  // namespace

void quantize_activation(const float* x, int64_t m, int64_t k, ActLayout layout, QuantizedActivation& out) {
  TPS_CHECK(m >= 0 && k > 0, "quantize_activation: bad shape [", m, ", ", k, "]");
  TPS_CHECK(layout == ActLayout::Plain || k % kActBlock == 0, "quantize_activation: the even/odd layout needs k (", k,
            ") to be a multiple of ", kActBlock);
  out.m = m;
  out.k = k;
  out.blocks = (k + kActBlock - 1) / kActBlock;
  out.stride = out.blocks * kActBlock;
  out.q.assign(static_cast<size_t>(m * out.stride), 0);
  out.scales.resize(static_cast<size_t>(m * out.blocks));
  out.sums.resize(static_cast<size_t>(m * out.blocks));
  const bool simd = hardware_isa() == Isa::Avx512;
  for (int64_t i = 0; i < m; i++)
    for (int64_t b = 0; b < out.blocks; b++) {
      const float* xb = x + i * k + b * kActBlock;
      const int64_t len = std::min(kActBlock, k - b * kActBlock);
      int8_t* qb = out.q.data() + i * out.stride + b * kActBlock;
      const size_t at = static_cast<size_t>(i * out.blocks + b);
      out.sums[at] = simd && len == kActBlock ? quantize_block_avx512(xb, layout, qb, &out.scales[at])
                                              : quantize_block_scalar(xb, len, layout, qb, &out.scales[at]);
    }
}

}  // namespace tpserve::cpu
