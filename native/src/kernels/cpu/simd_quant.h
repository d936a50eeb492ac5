// Vector loads of quantized weight storage, one struct Q per SIMD path beside simd.h's S:
// W int8 or fp8 e4m3 bytes as fp32 lanes, and the low / high nibbles of W packed int4 bytes.
// Used by linear_quantized_kernels.inc; compiled per target like simd.h.
#pragma once
#include "kernels/cpu/simd.h"

// ---------------------------------------------------------------- AVX-512 (16 lanes)
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
namespace tpserve::cpu::simd_avx512 {
// (maskz forms: see simd.h, GCC 12's false -Wuninitialized)
struct Q {
  static inline __m512i bytes(const uint8_t* p) {
    return _mm512_maskz_cvtepu8_epi32(0xffff, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static inline __m512 i8(const uint8_t* p) {
    return _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepi8_epi32(0xffff, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  // e4m3 -> f32: the 7 magnitude bits placed at f32's exponent/mantissa boundary give the value
  // times 2^-120 (subnormals included), then the sign bit.
  static inline __m512 fp8(const uint8_t* p) {
    __m512i v = bytes(p);
    __m512i mag = _mm512_maskz_slli_epi32(0xffff, _mm512_and_si512(v, _mm512_set1_epi32(0x7f)), 20);
    __m512i sign = _mm512_maskz_slli_epi32(0xffff, _mm512_and_si512(v, _mm512_set1_epi32(0x80)), 24);
    __m512 f = _mm512_mul_ps(_mm512_castsi512_ps(mag), _mm512_set1_ps(0x1p120f));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(f), sign));
  }
  static inline __m512 lo4(const uint8_t* p) { return _mm512_maskz_cvtepi32_ps(0xffff, _mm512_and_si512(bytes(p), _mm512_set1_epi32(0xf))); }
  static inline __m512 hi4(const uint8_t* p) { return _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_srli_epi32(0xffff, bytes(p), 4)); }
};
}  // namespace tpserve::cpu::simd_avx512
#pragma GCC pop_options

// ---------------------------------------------------------------- AVX2 (8 lanes)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace tpserve::cpu::simd_avx2 {
struct Q {
  static inline __m128i load8(const uint8_t* p) { return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)); }
  static inline __m256i bytes(const uint8_t* p) { return _mm256_cvtepu8_epi32(load8(p)); }
  static inline __m256 i8(const uint8_t* p) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(load8(p))); }
  static inline __m256 fp8(const uint8_t* p) {
    __m256i v = bytes(p);
    __m256i mag = _mm256_slli_epi32(_mm256_and_si256(v, _mm256_set1_epi32(0x7f)), 20);
    __m256i sign = _mm256_slli_epi32(_mm256_and_si256(v, _mm256_set1_epi32(0x80)), 24);
    __m256 f = _mm256_mul_ps(_mm256_castsi256_ps(mag), _mm256_set1_ps(0x1p120f));
    return _mm256_castsi256_ps(_mm256_or_si256(_mm256_castps_si256(f), sign));
  }
  static inline __m256 lo4(const uint8_t* p) { return _mm256_cvtepi32_ps(_mm256_and_si256(bytes(p), _mm256_set1_epi32(0xf))); }
  static inline __m256 hi4(const uint8_t* p) { return _mm256_cvtepi32_ps(_mm256_srli_epi32(bytes(p), 4)); }
};
}  // namespace tpserve::cpu::simd_avx2
#pragma GCC pop_options

// ---------------------------------------------------------------- portable (4 lanes)
namespace tpserve::cpu::simd_portable {
struct Q {
  static inline S::V i8(const uint8_t* p) {
    return S::V{static_cast<float>(static_cast<int8_t>(p[0])), static_cast<float>(static_cast<int8_t>(p[1])),
                static_cast<float>(static_cast<int8_t>(p[2])), static_cast<float>(static_cast<int8_t>(p[3]))};
  }
  static inline S::V fp8(const uint8_t* p) {
    return S::V{fp8_e4m3_to_float(p[0]), fp8_e4m3_to_float(p[1]), fp8_e4m3_to_float(p[2]), fp8_e4m3_to_float(p[3])};
  }
  static inline S::V lo4(const uint8_t* p) {
    return S::V{static_cast<float>(p[0] & 0xf), static_cast<float>(p[1] & 0xf), static_cast<float>(p[2] & 0xf),
                static_cast<float>(p[3] & 0xf)};
  }
  static inline S::V hi4(const uint8_t* p) {
    return S::V{static_cast<float>(p[0] >> 4), static_cast<float>(p[1] >> 4), static_cast<float>(p[2] >> 4),
                static_cast<float>(p[3] >> 4)};
  }
};
}  // namespace tpserve::cpu::simd_portable
