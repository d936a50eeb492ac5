// Dynamic per-tensor FP8 quantization of activations, the input side of the FP8 cuBLASLt GEMM
// (linear_quantized.cuh): scale = max|x| / 448 (1 when x is all zeros), q = e4m3(x / scale)
// rounded to nearest even and saturated at +-448. CPU twin: float_to_fp8_e4m3 in tpserve/dtype.h
// applied with the same scale (tests/cuda_quantized_test.cpp builds its reference so).
#pragma once
#include <cstdint>

namespace tpserve::cuda {
// x: [n] f32 device; out: [n] e4m3 bytes device; amax_scale: [2] f32 device, written with
// (max|x|, scale). Two kernels on current_stream(), no host sync (graph-capturable).
void quantize_fp8_per_tensor(const float* x, int64_t n, void* out, float* amax_scale);
}  // namespace tpserve::cuda
