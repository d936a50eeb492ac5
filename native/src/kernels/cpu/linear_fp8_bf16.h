// AVX512-BF16 GEMV of fp8 e4m3 weights: each 64 weight bytes become bf16 (exactly: every e4m3
// value is a bf16 value) through two 128-entry byte lookups (vpermi2b, AVX512-VBMI) for the high
// and low bytes, then vdpbf16ps against x rounded to bf16. Computes
//   y[i, j] = scale[j] * sum_c bf16(x[i, c]) * fp8(w[j, c])   (+ bias)
// for one thread's output rows [n0, n1). Tests: tests/linear_fp8_bf16_test.cpp.
#pragma once
#include <cstdint>
#include <vector>

namespace tpserve::cpu {

// The CPU has AVX-512 F/BW/VL, VBMI and BF16.
bool has_avx512_bf16();

// x rows rounded to bf16 (nearest even) in the order the unpacked weights come in: per 64-column
// chunk, columns 0-7, 16-23, 32-39, 48-55 then 8-15, 24-31, 40-47, 56-63; zero-padded to a
// multiple of 64 columns.
struct Bf16Activation {
  int64_t m = 0, k = 0, stride = 0;  // stride: elements per row, a multiple of 64
  std::vector<uint16_t> v;           // [m, stride]
  const uint16_t* row(int64_t i) const { return v.data() + i * stride; }
};
void bf16_activation(const float* x, int64_t m, int64_t k, Bf16Activation& out);

// w: [n, k] e4m3 bytes; scales: [n]; y: [m, n].
void fp8_bf16_rows(const Bf16Activation& x, const uint8_t* w, const float* scales, int64_t n, const float* bias,
                   int64_t n0, int64_t n1, float* y);

}  // namespace tpserve::cpu
