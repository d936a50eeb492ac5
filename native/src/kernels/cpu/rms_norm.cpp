// CPU RMSNorm, row by row in fp32: out = x * rsqrt(mean(x^2) + eps) * weight, optionally after
// the residual add (add_rms_norm). Tests: rms_norm_test.cpp
#include "kernels/cpu/rms_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/simd.h"
#include "tpserve/thread_pool.h"

namespace tpserve::cpu {

namespace {

// Both ops: optionally residual += delta first (in the row, while it is in cache), then the norm.
void norm_rows(float* x, const float* delta, const Tensor& weight, float eps, int64_t num_rows, int64_t dim,
               float* out, const char* name) {
  TPS_CHECK(weight.device().is_cpu(), name, ": weight is not on the CPU");
  TPS_CHECK(weight.numel() == dim, name, ": weight ", weight.shape_string(), " does not match dim ", dim);
  TPS_CHECK(num_rows >= 0 && dim > 0, name, ": bad shape [", num_rows, ", ", dim, "]");
  if (num_rows == 0) return;
  TPS_CHECK(x != nullptr && out != nullptr, name, ": null x or out");
  const VecOps& ops = vec_ops();
  // w: [dim] fp32, the weight itself when it is f32 (the engine uploads norms in f32: no copy and
  // no allocation on a decode step's 2 norms a layer)
  std::vector<float> converted;
  const float* w = weight.dtype() == DType::F32 ? weight.ptr<const float>() : nullptr;
  if (!w) {
    converted.resize(static_cast<size_t>(dim));
    ops.to_f32(weight.data(), weight.dtype(), converted.data(), dim);
    w = converted.data();
  }
  default_pool().parallel_for(
      num_rows,
      [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; r++) {
          float* xr = x + r * dim;
          if (delta) ops.add(xr, delta + r * dim, xr, dim);
          const float inv = 1.0f / std::sqrt(ops.sum_squares(xr, dim) / static_cast<float>(dim) + eps);
          ops.mul_scaled(xr, w, inv, out + r * dim, dim);
        }
      },
      std::max<int64_t>(1, 32768 / dim));
}

}  // namespace

void rms_norm(const float* x, const Tensor& weight, float eps, int64_t num_rows, int64_t dim, float* out) {
  // delta == nullptr never writes x: the const_cast only lets both ops share one loop.
  norm_rows(const_cast<float*>(x), nullptr, weight, eps, num_rows, dim, out, "rms_norm");
}

void add_rms_norm(float* residual, const float* x, const Tensor& weight, float eps, int64_t num_rows, int64_t dim,
                  float* normed_out) {
  TPS_CHECK(num_rows == 0 || x != nullptr, "add_rms_norm: null x");
  TPS_CHECK(num_rows == 0 || (normed_out != residual && normed_out != x),
            "add_rms_norm: normed_out must not alias residual or x");
  norm_rows(residual, x, weight, eps, num_rows, dim, normed_out, "add_rms_norm");
}

}  // namespace tpserve::cpu
