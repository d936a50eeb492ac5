// CPU RMSNorm: out = x * rsqrt(mean(x^2) + eps) * weight, row by row, fp32 math.
#pragma once
#include "tpserve/tensor.h"

namespace tpserve::cpu {
// x, out: [num_rows, dim] f32 (out may alias x); weight: [dim] any dtype
void rms_norm(const float* x, const Tensor& weight, float eps, int64_t num_rows, int64_t dim, float* out);
}  // namespace tpserve::cpu
