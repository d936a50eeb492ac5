// Element types: names, sizes, parsing and the scalar half-precision conversions.
#include "tpserve/dtype.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "tpserve/error.h"

namespace tpserve {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::F16:
    case DType::BF16: return 2;
    case DType::I8:
    case DType::U8:
    case DType::F8_E4M3: return 1;
    case DType::I32: return 4;
  }
  TPS_THROW("unknown dtype ", static_cast<int>(dtype));
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::I32: return "I32";
    case DType::F8_E4M3: return "F8_E4M3";
  }
  return "?";
}

DType parse_dtype(const std::string& name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "f32" || n == "float32" || n == "float") return DType::F32;
  if (n == "f16" || n == "float16" || n == "half") return DType::F16;
  if (n == "bf16" || n == "bfloat16") return DType::BF16;
  TPS_THROW("unsupported dtype '", name, "' (expected F32, F16 or BF16)");
}

float f16_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        exp--;
      }
      mant &= 0x3ffu;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_f16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000u;
  int32_t exp = static_cast<int32_t>((bits >> 23) & 0xffu) - 127 + 15;
  uint32_t mant = bits & 0x7fffffu;
  if (((bits >> 23) & 0xffu) == 0xffu) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);
  if (exp <= 0) {
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - exp);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1u))) half++;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) half++;
  return static_cast<uint16_t>(half);
}

uint8_t float_to_fp8_e4m3(float f) {
  if (std::isnan(f)) return 0x7f;
  const uint8_t sign = std::signbit(f) ? 0x80 : 0;
  float a = std::min(std::fabs(f), 448.0f);
  if (a == 0.0f) return sign;
  // Pick the nearest of the 127 non-negative finite codes by rounding in the code's own grid.
  int exp;
  std::frexp(a, &exp);        // a = frac * 2^exp, frac in [0.5, 1)
  int e = std::max(exp - 1 + 7, 1);   // biased exponent of a's binade (subnormals share e = 1's step)
  const float step = std::ldexp(1.0f, e - 7 - 3);
  float q = std::nearbyint(a / step);  // round half to even (default rounding mode)
  uint32_t code;
  if (e == 1 && q < 8) {
    code = static_cast<uint32_t>(q);  // subnormal (or the first normal when q == 8 is handled below)
  } else {
    if (q >= 16) {  // rounded up into the next binade
      e++;
      q /= 2;
    }
    code = (static_cast<uint32_t>(e) << 3) | (static_cast<uint32_t>(q) - 8);
  }
  if (code > 0x7e) code = 0x7e;  // 448
  return static_cast<uint8_t>(sign | code);
}

}  // namespace tpserve
