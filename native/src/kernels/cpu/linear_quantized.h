// CPU linear layer on quantized weights: y = x . W^T (+ bias) with W an Int8, Int4 or Fp8
// LinearWeight (tpserve/linear_weight.h). Few rows (decode): GEMV kernels, either int8 dot
// products on AVX-512 VNNI or kernels that dequantize in registers (AVX-512, AVX2, portable,
// chosen at run time); many rows (prefill): W dequantized to fp32 panels and multiplied by the
// float GEMM of linear().
#pragma once
#include "tpserve/linear_weight.h"

namespace tpserve::cpu {
// How decode (few rows) multiplies quantized weights on AVX-512:
//   Low:   x rounded to a narrow type for the CPU's dot-product instructions: to int8 per
//          128-column block for int8 and int4 weights (group size a multiple of 128) with VNNI
//          (linear_vnni.h), to bf16 for fp8 weights with AVX512-BF16 (linear_fp8_bf16.h).
//          The default; a format or CPU without such a kernel takes the Float path.
//   Float: x in fp32, weights dequantized to fp32 in registers (TPSERVE_CPU_QUANT_DOT=float,
//          and the AVX2 / portable paths).
enum class QuantizedDot : int { Float = 0, Low = 1 };
QuantizedDot quantized_dot();
// Re-reads TPSERVE_CPU_QUANT_DOT=float|low (the tests call this after setenv).
QuantizedDot reload_quantized_dot();

// The layout this file computes a loaded weight fastest in: the 16-row tiles of
// tpserve/linear_weight_tiles.h where the VNNI decode path takes it (AVX-512 VNNI, the Low dot,
// Int8 or Int4 in groups of 128k), else w itself. The CPU backend's upload_quantized.
LinearWeight cpu_weight_layout(const LinearWeight& w);

// x: [m, k] f32; weight: quantized [n, k]; bias: [n] or nullptr; y: [m, n] f32 (must not alias x).
// batch_invariant: as for linear(): the decode kernels at any m (x rounded per row where they
// take narrow activations), so a row's result does not depend on the other rows of the call.
void linear_quantized(const float* x, const LinearWeight& weight, const Tensor* bias, int64_t m, float* y,
                      bool batch_invariant = false);
// Any format: linear() for Float weights (linear_bf16_tiles() for tiled BF16), linear_quantized()
// for the others.
void linear_any(const float* x, const LinearWeight& weight, const Tensor* bias, int64_t m, float* y,
                bool batch_invariant = false);
}  // namespace tpserve::cpu
