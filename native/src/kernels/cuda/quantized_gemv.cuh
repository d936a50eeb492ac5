// Decode GEMV on quantized weights (CUDA twin of the GEMV kernels of kernels/cpu/linear_quantized.h):
// y[m, n] = x[m, k] . W^T (+ bias) for m <= kQuantGemvMaxRows, W an Int8, Int4 or Fp8 weight in the
// device layout of weight_upload.h. Codes are dequantized in registers (quantized_codes.cuh),
// accumulated in fp32; every weight byte is read once per call. Tests: tests/cuda_quantized_test.cpp.
#pragma once
#include "tpserve/linear_weight.h"

namespace tpserve::cuda {
constexpr int64_t kQuantGemvMaxRows = 8;
// x: [m, k] f32 device; bias: [n] f32 device or nullptr; y: [m, n] f32 (must not alias x)
void quantized_gemv(const float* x, const LinearWeight& w, const float* bias, int64_t m, float* y);
}  // namespace tpserve::cuda
