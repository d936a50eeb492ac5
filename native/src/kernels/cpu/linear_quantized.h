// CPU linear layer on quantized weights: y = x . W^T (+ bias) with W an Int8, Int4 or Fp8
// LinearWeight (tpserve/linear_weight.h). Few rows (decode): GEMV kernels that dequantize in
// registers (AVX-512, AVX2, portable, chosen at run time); many rows (prefill): W dequantized to
// fp32 panels and multiplied by the float GEMM of linear().
#pragma once
#include "tpserve/linear_weight.h"

namespace tpserve::cpu {
// x: [m, k] f32; weight: quantized [n, k]; bias: [n] or nullptr; y: [m, n] f32 (must not alias x)
void linear_quantized(const float* x, const LinearWeight& weight, const Tensor* bias, int64_t m, float* y);
// Any format: linear() for Float weights, linear_quantized() for the others.
void linear_any(const float* x, const LinearWeight& weight, const Tensor* bias, int64_t m, float* y);
}  // namespace tpserve::cpu
