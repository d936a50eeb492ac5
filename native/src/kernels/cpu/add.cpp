// CPU element-wise adds in fp32: the residual add and the broadcast bias add. Tests: add_test.cpp
#include "kernels/cpu/add.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/simd.h"
#include "tpserve/thread_pool.h"

namespace tpserve::cpu {

void add(const float* a, const float* b, int64_t n, float* out) {
  TPS_CHECK(n >= 0, "add: negative size ", n);
  if (n == 0) return;
  TPS_CHECK(a != nullptr && b != nullptr && out != nullptr, "add: null pointer");
  const VecOps& ops = vec_ops();
  default_pool().parallel_for(
      n, [&](int64_t i0, int64_t i1) { ops.add(a + i0, b + i0, out + i0, i1 - i0); }, 65536);
}

void add_bias(float* y, const Tensor& bias, int64_t num_rows) {
  TPS_CHECK(bias.device().is_cpu(), "add_bias: bias is not on the CPU");
  TPS_CHECK(num_rows >= 0, "add_bias: negative row count ", num_rows);
  const int64_t n = bias.numel();
  if (num_rows == 0 || n == 0) return;
  TPS_CHECK(y != nullptr && bias.data() != nullptr, "add_bias: null pointer");
  const VecOps& ops = vec_ops();
  // b: [n] fp32
  std::vector<float> b(static_cast<size_t>(n));
  ops.to_f32(bias.data(), bias.dtype(), b.data(), n);
  default_pool().parallel_for(
      num_rows,
      [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; r++) ops.add(y + r * n, b.data(), y + r * n, n);
      },
      std::max<int64_t>(1, 65536 / n));
}

}  // namespace tpserve::cpu
