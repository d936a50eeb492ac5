// CPU argmax of one row of logits: the largest value, the lowest index holding it, and whether
// the row holds a NaN (the sampler's greedy pick and its checks). AVX-512 and AVX2 passes, a
// scalar twin on the portable path. Tests: tests/argmax_test.cpp (ctest -R Argmax).
#pragma once
#include <cstdint>

namespace tpserve::cpu {

struct ArgMax {
  float value;     // the largest element (-inf when all are); unspecified when has_nan
  int64_t index;   // the lowest index holding it (== value, so +0 and -0 are one); -1 when has_nan
  bool has_nan;
};

// x[0..n), n >= 1, on the active SIMD path.
ArgMax argmax(const float* x, int64_t n);

}  // namespace tpserve::cpu
