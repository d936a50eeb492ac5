// CUDA linear layer (twin of kernels/cpu/linear.h): y = x . W^T (+ bias), fp32 activations,
// f32/f16/bf16 weights, fp32 accumulation. The reference and fallback of the cuBLASLt path
// (cublaslt.h): a weight-streaming GEMV for few rows and a shared-memory tiled GEMM otherwise.
#pragma once
#include "tpserve/tensor.h"

namespace tpserve::cuda {
// x: [m, k] f32 device; weight: [n, k] on the GPU; bias: [n] or nullptr; y: [m, n] f32 (must not alias x)
void linear(const float* x, const Tensor& weight, const Tensor* bias, int64_t m, float* y);
}  // namespace tpserve::cuda
