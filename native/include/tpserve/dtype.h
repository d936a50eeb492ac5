// Element types of tensors (f32, f16, bf16; the storage types of quantized weights: int8, uint8,
// int32, fp8 e4m3) and scalar conversions to and from float.
// Vectorised conversions live in the kernels; these are the reference definitions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace tpserve {

enum class DType : int32_t { F32 = 0, F16 = 1, BF16 = 2, I8 = 3, U8 = 4, I32 = 5, F8_E4M3 = 6 };

// True for the dtypes activations and float weights may have (F32, F16, BF16).
inline bool is_float_dtype(DType d) { return d == DType::F32 || d == DType::F16 || d == DType::BF16; }

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
// Parses "F32"/"float32", "F16"/"float16", "BF16"/"bfloat16" (the weight/KV dtypes); throws on anything else.
DType parse_dtype(const std::string& name);

inline float bf16_to_float(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, as PyTorch does; NaN stays NaN.
inline uint16_t float_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float f16_to_float(uint16_t h);
uint16_t float_to_f16(float f);

// FP8 e4m3 ("e4m3fn" of PyTorch/OCP: bias 7, no infinities, 0x7f/0xff are NaN, max 448).
inline float fp8_e4m3_to_float(uint8_t v) {
  const uint32_t e = (v >> 3) & 0xfu, m = v & 0x7u;
  if (e == 0xfu && m == 0x7u) return std::numeric_limits<float>::quiet_NaN();
  const float mag = e == 0 ? std::ldexp(static_cast<float>(m), -9) : std::ldexp(1.0f + static_cast<float>(m) / 8.0f, static_cast<int>(e) - 7);
  return (v & 0x80u) ? -mag : mag;
}
// Round to nearest even, saturating at +-448 (what torch's cast to float8_e4m3fn does after a clamp).
uint8_t float_to_fp8_e4m3(float f);

// Reads element i of a buffer of the given dtype as float.
inline float load_as_float(const void* data, DType dtype, size_t i) {
  switch (dtype) {
    case DType::F32: return static_cast<const float*>(data)[i];
    case DType::BF16: return bf16_to_float(static_cast<const uint16_t*>(data)[i]);
    case DType::F16: return f16_to_float(static_cast<const uint16_t*>(data)[i]);
    case DType::I8: return static_cast<float>(static_cast<const int8_t*>(data)[i]);
    case DType::U8: return static_cast<float>(static_cast<const uint8_t*>(data)[i]);
    case DType::I32: return static_cast<float>(static_cast<const int32_t*>(data)[i]);
    case DType::F8_E4M3: return fp8_e4m3_to_float(static_cast<const uint8_t*>(data)[i]);
  }
  return 0.f;
}

}  // namespace tpserve
