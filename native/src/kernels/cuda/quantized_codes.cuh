// Device-side decoding of the quantized weight codes (include from .cu files only), shared by the
// decode GEMV (quantized_gemv.cu) and the dequantization for prefill (dequantize_weight.cu).
// Every decode is exact: int8 and int4 codes through the 2^23 magic number (an OR and a subtract,
// no int->float conversion), fp8 e4m3 through the hardware conversion on sm_89+ and a bit
// manipulation elsewhere. The device layout itself is described in weight_upload.h.
#pragma once
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cstdint>

#include "tpserve/linear_weight.h"

namespace tpserve::cuda {

// Weights per 32-bit word of the device layout.
template <WeightFormat F>
constexpr int kCodesPerWord = F == WeightFormat::Int4 ? 8 : 4;

// 2^23 + v as a float for a small unsigned integer v: subtracting 2^23 gives v exactly.
__device__ __forceinline__ float magic_u(uint32_t v) { return __int_as_float(0x4B000000u | v); }

// Four int8 codes (byte j = column j) as floats: v ^ 0x80 is v + 128 as an unsigned byte.
__device__ __forceinline__ void decode_int8x4(uint32_t w, float (&out)[4]) {
#pragma unroll
  for (int j = 0; j < 4; j++) out[j] = magic_u(((w >> (8 * j)) & 0xffu) ^ 0x80u) - 8388736.f;  // 2^23 + 128
}

// Eight int4 codes (nibble j = column j, low nibble first) as floats 0..15.
__device__ __forceinline__ void decode_int4x8(uint32_t w, float (&out)[8]) {
#pragma unroll
  for (int j = 0; j < 8; j++) out[j] = magic_u((w >> (4 * j)) & 0xfu) - 8388608.f;  // 2^23
}

// One e4m3 byte without fp8 hardware: the 7 magnitude bits placed at fp32's exponent / mantissa
// boundary are the value times 2^-120 (subnormals included); then the sign. (0x7f / 0xff, NaN in
// e4m3, come out as 480: no quantizer writes them.)
__device__ __forceinline__ float fp8_e4m3_bits_to_float(uint32_t b) {
  const float mag = __int_as_float((b & 0x7fu) << 20) * 0x1p120f;
  return __int_as_float(__float_as_int(mag) | ((b & 0x80u) << 24));
}

// Four e4m3 codes (byte j = column j) as floats.
__device__ __forceinline__ void decode_fp8x4(uint32_t w, float (&out)[4]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  // sm_89+: cvt.rn.f16x2.e4m3x2, exact (every e4m3 value is an fp16 value)
  const __half2 lo(__nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(w & 0xffffu), __NV_E4M3));
  const __half2 hi(__nv_cvt_fp8x2_to_halfraw2(static_cast<__nv_fp8x2_storage_t>(w >> 16), __NV_E4M3));
  const float2 a = __half22float2(lo), b = __half22float2(hi);
  out[0] = a.x, out[1] = a.y, out[2] = b.x, out[3] = b.y;
#else
#pragma unroll
  for (int j = 0; j < 4; j++) out[j] = fp8_e4m3_bits_to_float((w >> (8 * j)) & 0xffu);
#endif
}

// The codes of one word of format F as floats (int4: 8 values, int8 / fp8: 4; the rest unset).
template <WeightFormat F>
__device__ __forceinline__ void decode_word(uint32_t w, float (&out)[8]) {
  if constexpr (F == WeightFormat::Int4) {
    decode_int4x8(w, out);
  } else {
    float v[4];
    if constexpr (F == WeightFormat::Int8) decode_int8x4(w, v);
    else decode_fp8x4(w, v);
#pragma unroll
    for (int j = 0; j < 4; j++) out[j] = v[j];
  }
}

}  // namespace tpserve::cuda
