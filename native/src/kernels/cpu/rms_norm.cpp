// CPU RMSNorm, row by row in fp32: out = x * rsqrt(mean(x^2) + eps) * weight. Tests: rms_norm_test.cpp
#include "kernels/cpu/rms_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/simd.h"
#include "tpserve/thread_pool.h"

namespace tpserve::cpu {

void rms_norm(const float* x, const Tensor& weight, float eps, int64_t num_rows, int64_t dim, float* out) {
  TPS_CHECK(weight.device().is_cpu(), "rms_norm: weight is not on the CPU");
  TPS_CHECK(weight.numel() == dim, "rms_norm: weight ", weight.shape_string(), " does not match dim ", dim);
  TPS_CHECK(num_rows >= 0 && dim > 0, "rms_norm: bad shape [", num_rows, ", ", dim, "]");
  if (num_rows == 0) return;
  TPS_CHECK(x != nullptr && out != nullptr, "rms_norm: null x or out");
  const VecOps& ops = vec_ops();
  // w: [dim] fp32
  std::vector<float> w(static_cast<size_t>(dim));
  ops.to_f32(weight.data(), weight.dtype(), w.data(), dim);
  default_pool().parallel_for(
      num_rows,
      [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; r++) {
          const float* xr = x + r * dim;
          const float inv = 1.0f / std::sqrt(ops.sum_squares(xr, dim) / static_cast<float>(dim) + eps);
          ops.mul_scaled(xr, w.data(), inv, out + r * dim, dim);
        }
      },
      std::max<int64_t>(1, 32768 / dim));
}

}  // namespace tpserve::cpu
