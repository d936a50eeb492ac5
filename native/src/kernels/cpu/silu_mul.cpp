// CPU SwiGLU activation, element-wise in fp32: out = gate * sigmoid(gate) * up, on the active
// SIMD path (vectorised e^x, simd_ops.inc). Tests: silu_mul_test.cpp
#include "kernels/cpu/silu_mul.h"

#include "kernels/cpu/simd.h"
#include "tpserve/error.h"
#include "tpserve/thread_pool.h"

namespace tpserve::cpu {

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  TPS_CHECK(n >= 0, "silu_mul: negative size ", n);
  if (n == 0) return;
  TPS_CHECK(gate != nullptr && up != nullptr && out != nullptr, "silu_mul: null pointer");
  const VecOps& ops = vec_ops();
  default_pool().parallel_for(
      n, [&](int64_t i0, int64_t i1) { ops.silu_mul(gate + i0, up + i0, out + i0, i1 - i0); }, 16384);
}

}  // namespace tpserve::cpu
