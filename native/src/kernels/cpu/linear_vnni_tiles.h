// AVX-512 VNNI GEMV of Int8 / Int4 weights in the CPU tile layout (tpserve/linear_weight_tiles.h)
// against int8-quantized activations in the Plain layout (quantize_activation.h). Each weight
// vector holds 4 bytes of 16 rows; one vpdpbusd with 4 activation bytes broadcast from memory
// advances the 16 rows' int32 sums, so the 16 outputs of a tile come out as one vector (no
// horizontal sums), and a thread reads its tiles as one sequential stream.
//   int8: y[i, j] = scale[j] * sum_b sx[i, b] * (sum_{c in b} xq[i, c] * (w[j, c] + 128) - 128 * sums[i, b])
//   int4: y[i, j] = sum_b sx[i, b] * s[j, g(b)] * sum_{c in b} xq[i, c] * q[j, c]
//                   - sum_g s[j, g] * z[j, g] * act_group_sums[i, g]
// Both equal x_dequantized . W_dequantized^T up to float rounding. Outputs rows [n0, n1) of y
// ([m, n], + bias); n0 a multiple of 16. Tests: tests/linear_vnni_test.cpp (Tiled*).
#pragma once
#include <cstdint>

#include "kernels/cpu/quantize_activation.h"
#include "tpserve/linear_weight.h"

namespace tpserve::cpu {

// w: a tiled Int8 weight; x: Plain layout.
void q8_tiles_rows(const QuantizedActivation& x, const LinearWeight& w, const float* bias, int64_t n0, int64_t n1,
                   float* y);
// w: a tiled Int4 weight; x: Plain layout; act_group_sums: [m, k / group_size].
void q4_tiles_rows(const QuantizedActivation& x, const float* act_group_sums, const LinearWeight& w, const float* bias,
                   int64_t n0, int64_t n1, float* y);

}  // namespace tpserve::cpu
