// CPU linear layer: y = x · W^T (+ bias), fp32 math on f32/f16/bf16 weights, SIMD chosen at run
// time (AVX-512, AVX2+FMA, portable), GEMV for few rows and a blocked GEMM for many.
#pragma once
#include "tpserve/tensor.h"

namespace tpserve::cpu {
// x: [m, k] f32; weight: [n, k]; bias: [n] or nullptr; y: [m, n] f32 (must not alias x)
void linear(const float* x, const Tensor& weight, const Tensor* bias, int64_t m, float* y);
// Name of the SIMD path linear() uses on this machine ("avx512", "avx2", "portable").
const char* linear_isa();
}  // namespace tpserve::cpu
