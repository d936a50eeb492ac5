// CPU argmax (see argmax.h): one pass for the max and the NaN check, a second for the first index
// of the max, which stops where it finds it. The scalar twin was the sampler's own loop; on a
// 32000-id row the greedy sample took 20 us with it (a loop the compiler cannot vectorise: a
// float max reduction reorders comparisons) and 4 us with the AVX-512 pass (docs/benchmarks.md).
#include "kernels/cpu/argmax.h"

#include <immintrin.h>

#include <cmath>
#include <limits>

#include "kernels/cpu/cpu_isa.h"

namespace tpserve::cpu {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

ArgMax argmax_scalar(const float* x, int64_t n) {
  float max = kNegInf;
  bool has_nan = false;
  for (int64_t i = 0; i < n; i++) {
    has_nan |= x[i] != x[i];
    max = x[i] > max ? x[i] : max;
  }
  if (has_nan) return {max, -1, true};
  int64_t i = 0;
  while (i < n && !(x[i] == max)) i++;
  return {max, i < n ? i : 0, false};  // all -inf: index 0
}

__attribute__((target("avx512f"))) ArgMax argmax_avx512(const float* x, int64_t n) {
  __m512 m = _mm512_set1_ps(kNegInf);
  __mmask16 nan = 0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    m = _mm512_max_ps(m, v);
  }
  const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1u);
  if (tail) {
    const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(kNegInf), tail, x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    m = _mm512_max_ps(m, v);
  }
  const float max = _mm512_reduce_max_ps(m);
  if (nan) return {max, -1, true};
  const __m512 want = _mm512_set1_ps(max);
  for (i = 0; i + 16 <= n; i += 16) {
    const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), want, _CMP_EQ_OQ);
    if (hit) return {max, i + __builtin_ctz(hit), false};
  }
  if (tail) {
    const __mmask16 hit = _mm512_mask_cmp_ps_mask(tail, _mm512_maskz_loadu_ps(tail, x + i), want, _CMP_EQ_OQ);
    if (hit) return {max, i + __builtin_ctz(hit), false};
  }
  return {max, 0, false};  // all -inf
}

__attribute__((target("avx2"))) ArgMax argmax_avx2(const float* x, int64_t n) {
  __m256 m = _mm256_set1_ps(kNegInf), nan = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    m = _mm256_max_ps(m, v);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  float max = lanes[0];
  for (int j = 1; j < 8; j++) max = lanes[j] > max ? lanes[j] : max;
  bool has_nan = _mm256_movemask_ps(nan) != 0;
  for (int64_t j = i; j < n; j++) {
    has_nan |= x[j] != x[j];
    max = x[j] > max ? x[j] : max;
  }
  if (has_nan) return {max, -1, true};
  const __m256 want = _mm256_set1_ps(max);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + j), want, _CMP_EQ_OQ));
    if (hit) return {max, j + __builtin_ctz(static_cast<unsigned>(hit)), false};
  }
  for (; j < n; j++)
    if (x[j] == max) return {max, j, false};
  return {max, 0, false};  // all -inf
}

}  // namespace

ArgMax argmax(const float* x, int64_t n) {
  switch (active_isa()) {
    case Isa::Avx512: return argmax_avx512(x, n);
    case Isa::Avx2: return argmax_avx2(x, n);
    case Isa::Portable: break;
  }
  return argmax_scalar(x, n);
}

}  // namespace tpserve::cpu
