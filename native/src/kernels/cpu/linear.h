// CPU linear layer: y = x · W^T (+ bias), fp32 math on f32/f16/bf16 weights, SIMD chosen at run
// time (AVX-512, AVX2+FMA, portable), GEMV for few rows and a blocked GEMM for many.
#pragma once
#include "tpserve/tensor.h"

namespace tpserve::cpu {
// x: [m, k] f32; weight: [n, k]; bias: [n] or nullptr; y: [m, n] f32 (must not alias x)
// batch_invariant: every row of y is computed exactly as a call with that row alone would (the
// GEMV kernels at any m, whose per-element order of operations never depends on m): a row's
// result does not depend on the other rows of the call. Large m is then ~40 % slower.
void linear(const float* x, const Tensor& weight, const Tensor* bias, int64_t m, float* y, bool batch_invariant = false);
// Name of the SIMD path linear() uses on this machine ("avx512", "avx2", "portable").
const char* linear_isa();
}  // namespace tpserve::cpu
