// CPU RMSNorm: out = x * rsqrt(mean(x^2) + eps) * weight, row by row, fp32 math; and the
// residual add fused in front of it.
#pragma once
#include "tpserve/tensor.h"

namespace tpserve::cpu {
// x, out: [num_rows, dim] f32 (out may alias x); weight: [dim] any dtype
void rms_norm(const float* x, const Tensor& weight, float eps, int64_t num_rows, int64_t dim, float* out);
// residual += x, then normed_out = rms_norm(residual), row by row (the residual add of a block
// fused with the next norm). residual, x, normed_out: [num_rows, dim] f32; normed_out must not
// alias residual or x.
void add_rms_norm(float* residual, const float* x, const Tensor& weight, float eps, int64_t num_rows, int64_t dim,
                  float* normed_out);
}  // namespace tpserve::cpu
