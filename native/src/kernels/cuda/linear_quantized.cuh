// CUDA linear layer on quantized weights (twin of kernels/cpu/linear_quantized.h): y = x . W^T
// (+ bias), fp32 activations, W an Int8, Int4 or Fp8 LinearWeight in the device layout of
// weight_upload.h (the CUDA backend uploads it so). By the number of x rows:
//   m < kQuantGemmMinRows (decode batches up to 32): quantized_gemv over slices of up to 8 rows,
//   dequantizing in registers;
//   larger m (prefill, big decode batches): W dequantized to bf16 in chunks of rows into a
//   reusable scratch (dequantize_weight.cuh), each chunk through the bf16 cuBLASLt GEMM into its
//   columns of y. Without cuBLASLt, or when the scratch is too small during CUDA-graph capture,
//   the GEMV runs over 8-row slices of x instead.
//   FP8 weights with one scale per tensor (FP8 checkpoints), at those m, on sm_89+: x quantized to e4m3
//   with a dynamic per-tensor scale (fp8_quantize.cuh), then cuBLASLt's FP8 GEMM (vLLM's scheme
//   for such checkpoints; it rounds x to 3 mantissa bits, unlike the weight-only CPU twin);
//   TPSERVE_CUDA_FP8_GEMM=0 keeps them on the dequantize + bf16 path (docs/cuda-backend.md).
// Tests: tests/cuda_quantized_test.cpp.
#pragma once
#include "tpserve/linear_weight.h"

namespace tpserve::cuda {
class CublasLt;
// From this many x rows, dequantizing W once (about 4.5 bytes per weight moved: codes in, bf16
// out, bf16 into the GEMM) costs less than the GEMV's passes (ceil(m / 8) reads of the codes,
// 0.5 to 1 byte per weight each, and m FMAs per weight on the CUDA cores). An estimate from byte
// and FMA counts, to be tuned on a GPU (quantized_linear_bench times m = 1, 8, 32).
constexpr int64_t kQuantGemmMinRows = 33;
// x: [m, k] f32 device; bias: [n] device (any float dtype) or nullptr; y: [m, n] f32 (must not
// alias x); blas: the backend's cuBLASLt or nullptr. chunk_elements: the bf16 elements of one
// dequantized chunk of rows (0: the default 64 Mi; the tests pass a small one to cover several).
void linear_quantized(const float* x, const LinearWeight& w, const Tensor* bias, int64_t m, float* y, CublasLt* blas,
                      int64_t chunk_elements = 0);
// Grows the dequantization scratch of the current stream to what w needs, now: call after
// uploading a weight, before any CUDA graph is captured.
void reserve_linear_quantized(const LinearWeight& w);
}  // namespace tpserve::cuda
