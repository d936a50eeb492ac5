// Activations (x rows of a linear layer) quantized to int8 for the integer dot products of the
// VNNI quantized GEMV (linear_vnni.h): each row in blocks of kActBlock = 128 columns, symmetric
// per block: scale = max|x| / 127, q = nearbyint(x * (127 / max|x|)) (a zero block: scale 0, q 0).
// Two byte layouts, per row, padded with zeros to a multiple of 128 columns:
//   Plain:    q in column order (int8 weights).
//   EvenOdd:  per block, its 64 even columns then its 64 odd columns (int4 weights: the low /
//             high nibbles of a packed byte hold an even / odd column).
// sums[b] is the sum of the block's q. Tests: tests/linear_vnni_test.cpp.
#pragma once
#include <cstdint>
#include <vector>

namespace tpserve::cpu {

constexpr int64_t kActBlock = 128;

enum class ActLayout { Plain, EvenOdd };

struct QuantizedActivation {
  int64_t m = 0, k = 0;
  int64_t blocks = 0;  // ceil(k / 128)
  int64_t stride = 0;  // bytes per row of q: blocks * 128
  std::vector<int8_t> q;       // [m, stride]
  std::vector<float> scales;   // [m, blocks]
  std::vector<int32_t> sums;   // [m, blocks]
  const int8_t* row(int64_t i) const { return q.data() + i * stride; }
};

// x: [m, k] f32; out is resized and overwritten.
void quantize_activation(const float* x, int64_t m, int64_t k, ActLayout layout, QuantizedActivation& out);

}  // namespace tpserve::cpu
