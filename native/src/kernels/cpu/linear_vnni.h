// AVX-512 VNNI GEMV of quantized weights in the row-major layout (weights not repacked into the
// CPU tiles, which linear_vnni_tiles.h computes faster) against int8-quantized activations (quantize_activation.h):
// vpdpbusd multiplies 64 weight bytes by 64 activation bytes per instruction, so a weight byte
// costs about one instruction to use and the kernels stream at memory speed. Each computes
// y[:, n0:n1] (+ bias) for one thread's output rows, from the activations of all m rows.
//   int8: y[i, j] = scale[j] * sum_b sx[i, b] * sum_{c in b} xq[i, c] * w[j, c]
//         (the weight bytes flipped to unsigned w + 128 with an XOR; 128 * sum(xq) cancelled in the
//          int32 accumulator)
//   int4: y[i, j] = sum_b sx[i, b] * s[j, g(b)] * sum_{c in b} xq[i, c] * q[j, c]
//                   - sum_g s[j, g] * z[j, g] * act_group_sums[i, g]
//         (the group size a multiple of 128; act_group_sums[i, g] = sum_{b in g} sx[i, b] * sums[i, b])
// Both equal x_dequantized . W_dequantized^T up to float rounding. Tests: tests/linear_vnni_test.cpp.
#pragma once
#include <cstdint>

#include "kernels/cpu/quantize_activation.h"

namespace tpserve::cpu {

// The CPU has AVX-512 F/BW/VL and VNNI.
bool has_avx512_vnni();

// x: activations in the Plain layout; w: [n, k] int8; scales: [n]; y: [m, n].
void q8_vnni_rows(const QuantizedActivation& x, const uint8_t* w, const float* scales, int64_t n, const float* bias,
                  int64_t n0, int64_t n1, float* y);

// x: activations in the EvenOdd layout; act_group_sums: [m, k / g]; w: [n, k / 2] packed nibbles
// (low = even column); scales, zeros: [n, k / g]; y: [m, n].
void q4_vnni_rows(const QuantizedActivation& x, const float* act_group_sums, const uint8_t* w, const float* scales,
                  const float* zeros, int64_t n, int64_t g, const float* bias, int64_t n0, int64_t n1, float* y);

}  // namespace tpserve::cpu
