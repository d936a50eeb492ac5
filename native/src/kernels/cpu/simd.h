// SIMD vector traits of the CPU kernels, one struct S per path (AVX-512, AVX2+FMA, portable),
// each compiled for its own target with `#pragma GCC target` so no -march flag is needed.
// Generic bodies written against S (simd_ops.inc, linear_kernels.inc) are included once per
// path inside the matching namespace; callers pick the namespace with active_isa().
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_isa.h"
#include "tpserve/dtype.h"

// Target strings (repeated literally in the pragmas below and in linear.cpp: pragmas take no macros):
//   AVX-512: "avx512f,avx512bw,avx512vl,avx2,fma,f16c"   AVX2: "avx2,fma,f16c"

// ---------------------------------------------------------------- AVX-512 (16 lanes)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
namespace tpserve::cpu::simd_avx512 {
struct S {
  using V = __m512;
  static constexpr int W = 16;
  static constexpr int kGemvRows = 4;  // weight rows per GEMV pass, m <= kGemvCols
  static constexpr int kGemvCols = 4;  // x rows per GEMV pass (R*M accumulators)
  static constexpr int kGemvRowsWide = 4;  // the same for larger m
  static constexpr int kGemvColsWide = 4;
  static constexpr int kGemmMR = 8;    // GEMM microkernel: MR x 2W tile of y
  static inline __mmask16 mask(int r) { return static_cast<__mmask16>((1u << r) - 1u); }
  static inline void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }
  static inline V zero() { return _mm512_setzero_ps(); }
  static inline V set1(float a) { return _mm512_set1_ps(a); }
  static inline V load(const float* p) { return _mm512_loadu_ps(p); }
  static inline V load_n(const float* p, int r) { return _mm512_maskz_loadu_ps(mask(r), p); }
  static inline void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static inline void store_n(float* p, V v, int r) { _mm512_mask_storeu_ps(p, mask(r), v); }
  static inline V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static inline V add(V a, V b) { return _mm512_add_ps(a, b); }
  static inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static inline V div(V a, V b) { return _mm512_maskz_div_ps(0xffff, a, b); }
  static inline V max(V a, V b) { return _mm512_maskz_max_ps(0xffff, a, b); }
  static inline V min(V a, V b) { return _mm512_maskz_min_ps(0xffff, a, b); }
  static inline V round(V a) { return _mm512_maskz_roundscale_ps(0xffff, a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static inline V scale2(V p, V n) { return _mm512_maskz_scalef_ps(0xffff, p, n); }  // p * 2^n, n integral
  // The maskz forms below avoid GCC 12's false -Wuninitialized on _mm512_undefined_* inside
  // the plain intrinsics; with an all-ones mask they compile to the same instructions.
  static inline float hsum(V v) {
    __m256 lo = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xf, _mm512_castps_pd(v), 0));
    __m256 hi = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xf, _mm512_castps_pd(v), 1));
    __m256 s8 = _mm256_add_ps(lo, hi);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_maskz_extractf32x4_ps(0xf, s8, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  // out[0..3] = the horizontal sums of a, b, c, d: halves, then 128-bit quarters, then pairs
  // added across the four at once (13 shuffles and adds where four hsum calls take 24).
  static inline void hsum4(V a, V b, V c, V d, float* out) {
    const V ab = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xffff, a, b, 0x44), _mm512_maskz_shuffle_f32x4(0xffff, a, b, 0xee));
    const V cd = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xffff, c, d, 0x44), _mm512_maskz_shuffle_f32x4(0xffff, c, d, 0xee));
    // quarter k holds four partial sums of input k
    V s = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(0xffff, ab, cd, 0x88), _mm512_maskz_shuffle_f32x4(0xffff, ab, cd, 0xdd));
    s = _mm512_add_ps(s, _mm512_maskz_permute_ps(0xffff, s, 0xb1));
    s = _mm512_add_ps(s, _mm512_maskz_permute_ps(0xffff, s, 0x4e));
    const V firsts = _mm512_maskz_permutexvar_ps(0xffff, _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), s);
    _mm_storeu_ps(out, _mm512_maskz_extractf32x4_ps(0xf, firsts, 0));
  }
  static inline V widen_bf16(__m256i h) {
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xffff, _mm512_maskz_cvtepu16_epi32(0xffff, h), 16));
  }
  static inline V widen_f16(__m256i h) { return _mm512_maskz_cvtph_ps(0xffff, h); }
  // W elements of a weight/cache row of dtype D starting at element i, as fp32.
  template <DType D>
  static inline V loadw(const void* base, int64_t i) {
    if constexpr (D == DType::F32) {
      return _mm512_loadu_ps(static_cast<const float*>(base) + i);
    } else {
      __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(base) + i));
      if constexpr (D == DType::BF16) return widen_bf16(h);
      else return widen_f16(h);
    }
  }
  // 2W bf16 starting at element i as fp32: even = elements i, i+2, ..., odd = i+1, i+3, ... (a
  // shift and a mask of the raw 32-bit pairs, no widening shuffle).
  static inline void load_bf16_pairs(const void* base, int64_t i, V& even, V& odd) {
    __m512i v = _mm512_loadu_si512(static_cast<const uint16_t*>(base) + i);
    even = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xffff, v, 16));
    odd = _mm512_castsi512_ps(_mm512_maskz_and_epi32(0xffff, v, _mm512_set1_epi32(static_cast<int>(0xffff0000u))));
  }
  // r < W elements (the rest read as zero).
  template <DType D>
  static inline V loadw_n(const void* base, int64_t i, int r) {
    if constexpr (D == DType::F32) {
      return _mm512_maskz_loadu_ps(mask(r), static_cast<const float*>(base) + i);
    } else {
      __m256i h = _mm256_maskz_loadu_epi16(mask(r), static_cast<const uint16_t*>(base) + i);
      if constexpr (D == DType::BF16) return widen_bf16(h);
      else return widen_f16(h);
    }
  }
};
#include "kernels/cpu/simd_ops.inc"
}  // namespace tpserve::cpu::simd_avx512
#pragma GCC pop_options

// ---------------------------------------------------------------- AVX2 + FMA + F16C (8 lanes)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace tpserve::cpu::simd_avx2 {
struct S {
  using V = __m256;
  static constexpr int W = 8;
  static constexpr int kGemvRows = 4;
  static constexpr int kGemvCols = 2;
  static constexpr int kGemvRowsWide = 2;
  static constexpr int kGemvColsWide = 4;
  static constexpr int kGemmMR = 6;
  static inline __m256i mask(int r) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static inline void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }
  static inline V zero() { return _mm256_setzero_ps(); }
  static inline V set1(float a) { return _mm256_set1_ps(a); }
  static inline V load(const float* p) { return _mm256_loadu_ps(p); }
  static inline V load_n(const float* p, int r) { return _mm256_maskload_ps(p, mask(r)); }
  static inline void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static inline void store_n(float* p, V v, int r) { _mm256_maskstore_ps(p, mask(r), v); }
  static inline V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static inline V add(V a, V b) { return _mm256_add_ps(a, b); }
  static inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static inline V div(V a, V b) { return _mm256_div_ps(a, b); }
  static inline V max(V a, V b) { return _mm256_max_ps(a, b); }
  static inline V min(V a, V b) { return _mm256_min_ps(a, b); }
  static inline V round(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static inline V scale2(V p, V n) {  // p * 2^n for integral n in [-126, 127]: n in the exponent bits
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  }
  static inline float hsum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  // out[0..3] = the horizontal sums of a, b, c, d (three horizontal adds and one across the halves).
  static inline void hsum4(V a, V b, V c, V d, float* out) {
    const V abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
  }
  static inline V widen(__m128i h, DType d) {
    return d == DType::BF16 ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)) : _mm256_cvtph_ps(h);
  }
  template <DType D>
  static inline V loadw(const void* base, int64_t i) {
    if constexpr (D == DType::F32) {
      return _mm256_loadu_ps(static_cast<const float*>(base) + i);
    } else {
      __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + i));
      return widen(h, D);
    }
  }
  static inline void load_bf16_pairs(const void* base, int64_t i, V& even, V& odd) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(base) + i));
    even = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    odd = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32(static_cast<int>(0xffff0000u))));
  }
  template <DType D>
  static inline V loadw_n(const void* base, int64_t i, int r) {
    if constexpr (D == DType::F32) {
      return _mm256_maskload_ps(static_cast<const float*>(base) + i, mask(r));
    } else {
      alignas(16) uint16_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      std::memcpy(tmp, static_cast<const uint16_t*>(base) + i, static_cast<size_t>(r) * 2);
      return widen(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp)), D);
    }
  }
};
#include "kernels/cpu/simd_ops.inc"
}  // namespace tpserve::cpu::simd_avx2
#pragma GCC pop_options

// ---------------------------------------------------------------- portable (4 lanes, GCC vectors)
namespace tpserve::cpu::simd_portable {
struct S {
  typedef float V __attribute__((vector_size(16)));
  static constexpr int W = 4;
  static constexpr int kGemvRows = 2;
  static constexpr int kGemvCols = 2;
  static constexpr int kGemvRowsWide = 2;
  static constexpr int kGemvColsWide = 2;
  static constexpr int kGemmMR = 4;
  static inline void prefetch(const void* p) { __builtin_prefetch(p); }
  static inline V zero() { return V{0, 0, 0, 0}; }
  static inline V set1(float a) { return V{a, a, a, a}; }
  static inline V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  }
  static inline V load_n(const float* p, int r) {
    V v = zero();
    std::memcpy(&v, p, static_cast<size_t>(r) * 4);
    return v;
  }
  static inline void store(float* p, V v) { std::memcpy(p, &v, sizeof(v)); }
  static inline void store_n(float* p, V v, int r) { std::memcpy(p, &v, static_cast<size_t>(r) * 4); }
  static inline V fma(V a, V b, V c) { return a * b + c; }
  static inline V add(V a, V b) { return a + b; }
  static inline V mul(V a, V b) { return a * b; }
  static inline V div(V a, V b) { return a / b; }
  static inline V max(V a, V b) { return V{std::max(a[0], b[0]), std::max(a[1], b[1]), std::max(a[2], b[2]), std::max(a[3], b[3])}; }
  static inline V min(V a, V b) { return V{std::min(a[0], b[0]), std::min(a[1], b[1]), std::min(a[2], b[2]), std::min(a[3], b[3])}; }
  static inline V round(V a) { return V{std::nearbyint(a[0]), std::nearbyint(a[1]), std::nearbyint(a[2]), std::nearbyint(a[3])}; }
  static inline V scale2(V p, V n) {
    return V{std::ldexp(p[0], static_cast<int>(n[0])), std::ldexp(p[1], static_cast<int>(n[1])),
             std::ldexp(p[2], static_cast<int>(n[2])), std::ldexp(p[3], static_cast<int>(n[3]))};
  }
  static inline float hsum(V v) { return (v[0] + v[2]) + (v[1] + v[3]); }
  static inline void hsum4(V a, V b, V c, V d, float* out) {
    out[0] = hsum(a);
    out[1] = hsum(b);
    out[2] = hsum(c);
    out[3] = hsum(d);
  }
  static inline void load_bf16_pairs(const void* base, int64_t i, V& even, V& odd) {
    const uint16_t* p = static_cast<const uint16_t*>(base) + i;
    for (int j = 0; j < W; j++) {
      even[j] = bf16_to_float(p[2 * j]);
      odd[j] = bf16_to_float(p[2 * j + 1]);
    }
  }
  template <DType D>
  static inline V loadw_n(const void* base, int64_t i, int r) {
    V v = zero();
    if constexpr (D == DType::F32) {
      std::memcpy(&v, static_cast<const float*>(base) + i, static_cast<size_t>(r) * 4);
    } else {
      const uint16_t* p = static_cast<const uint16_t*>(base) + i;
      for (int j = 0; j < r; j++) v[j] = D == DType::BF16 ? bf16_to_float(p[j]) : f16_to_float(p[j]);
    }
    return v;
  }
  template <DType D>
  static inline V loadw(const void* base, int64_t i) {
    if constexpr (D == DType::BF16) {
      typedef uint32_t U __attribute__((vector_size(16)));
      const uint16_t* p = static_cast<const uint16_t*>(base) + i;
      U u = {p[0], p[1], p[2], p[3]};
      u <<= 16;
      V v;
      std::memcpy(&v, &u, sizeof(v));
      return v;
    } else {
      return loadw_n<D>(base, i, W);
    }
  }
};
#include "kernels/cpu/simd_ops.inc"
}  // namespace tpserve::cpu::simd_portable

namespace tpserve::cpu {
// Row helpers of the active path, for kernels that need only these (attention, norms).
struct VecOps {
  float (*dot)(const float* a, const float* b, int64_t n);
  void (*axpy)(float a, const float* x, float* y, int64_t n);  // y += a * x
  void (*scale)(float a, float* y, int64_t n);                // y *= a
  void (*to_f32)(const void* src, DType dtype, float* dst, int64_t n);
  float (*sum_squares)(const float* x, int64_t n);
  void (*mul_scaled)(const float* x, const float* w, float s, float* out, int64_t n);  // out = x * s * w
  void (*add)(const float* a, const float* b, float* out, int64_t n);
  void (*silu_mul)(const float* gate, const float* up, float* out, int64_t n);  // out = silu(gate) * up
};

inline const VecOps& vec_ops(Isa isa) {
  static const VecOps ops[3] = {
#define TPS_VEC_OPS(ns) {ns::dot, ns::axpy, ns::scale, ns::to_f32, ns::sum_squares, ns::mul_scaled, ns::add_rows, ns::silu_mul_rows}
      TPS_VEC_OPS(simd_portable), TPS_VEC_OPS(simd_avx2), TPS_VEC_OPS(simd_avx512)
#undef TPS_VEC_OPS
  };
  return ops[static_cast<int>(isa)];
}
inline const VecOps& vec_ops() { return vec_ops(active_isa()); }
}  // namespace tpserve::cpu
