// Element types of tensors (f32, f16, bf16) and scalar conversions to and from float.
// Vectorised conversions live in the kernels; these are the reference definitions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace tpserve {

enum class DType : int32_t { F32 = 0, F16 = 1, BF16 = 2 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);
// Parses "F32"/"float32", "F16"/"float16", "BF16"/"bfloat16"; throws on anything else.
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

// Reads element i of a buffer of the given dtype as float.
inline float load_as_float(const void* data, DType dtype, size_t i) {
  switch (dtype) {
    case DType::F32: return static_cast<const float*>(data)[i];
    case DType::BF16: return bf16_to_float(static_cast<const uint16_t*>(data)[i]);
    case DType::F16: return f16_to_float(static_cast<const uint16_t*>(data)[i]);
  }
  return 0.f;
}

}  // namespace tpserve
