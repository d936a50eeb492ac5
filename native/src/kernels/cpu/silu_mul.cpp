// CPU SwiGLU activation, element-wise in fp32: out = gate * sigmoid(gate) * up. Tests: silu_mul_test.cpp
#include "kernels/cpu/silu_mul.h"

#include <cmath>

#include "tpserve/error.h"
#include "tpserve/thread_pool.h"

namespace tpserve::cpu {

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  TPS_CHECK(n >= 0, "silu_mul: negative size ", n);
  if (n == 0) return;
  TPS_CHECK(gate != nullptr && up != nullptr && out != nullptr, "silu_mul: null pointer");
  default_pool().parallel_for(
      n,
      [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; i++) {
          const float g = gate[i];
          out[i] = g / (1.0f + std::exp(-g)) * up[i];
        }
      },
      16384);
}

}  // namespace tpserve::cpu
