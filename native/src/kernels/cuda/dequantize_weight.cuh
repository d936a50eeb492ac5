// Dequantization of a quantized weight to bf16 on the GPU (CUDA twin of dequantize_rows() in
// tpserve/linear_weight.h): the prefill path of linear_quantized.cuh feeds it to the bf16
// cuBLASLt GEMM. Each value is computed as the CPU computes it ((code - zero) * scale in fp32),
// then rounded to nearest even. Tests: tests/cuda_quantized_test.cpp (bit-exact against the CPU).
#pragma once
#include "tpserve/linear_weight.h"

namespace tpserve::cuda {
// out: [rows, k] bf16 device (row-major, natural column order: act-order columns are scattered
// to perm[c]) = W rows [r0, r0 + rows) of a device-layout weight (weight_upload.h).
void dequantize_weight_bf16(const LinearWeight& w, int64_t r0, int64_t rows, void* out);
}  // namespace tpserve::cuda
