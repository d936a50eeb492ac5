// Rows of a tiled Int8 / Int4 weight (tpserve/linear_weight_tiles.h) dequantized to fp32 in the
// stored column order (before any act-order perm), row-major: the panels the prefill GEMM
// multiplies (linear_quantized.cpp). AVX-512 where the CPU has it, else the scalar accessors of
// linear_weight_tiles.h; its reference is dequantize_rows() of the row-major weight.
// Tests: tests/linear_weight_tiles_test.cpp.
#pragma once
#include <cstdint>

#include "tpserve/linear_weight.h"

namespace tpserve::cpu {

// out: [r1 - r0, k] f32; r0 a multiple of 16.
void dequantize_tile_rows(const LinearWeight& w, int64_t r0, int64_t r1, float* out);

}  // namespace tpserve::cpu
