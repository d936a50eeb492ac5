// CUDA RMSNorm (twin of kernels/cpu/rms_norm.h), plus the residual add fused in front of it.
#pragma once
#include "tpserve/tensor.h"

namespace tpserve::cuda {
// x, out: [num_rows, dim] f32 device (out may alias x); weight: [dim] any dtype, on the GPU
void rms_norm(const float* x, const Tensor& weight, float eps, int64_t num_rows, int64_t dim, float* out);
// residual += x, then normed_out = rms_norm(residual): the CPU twin is cpu::add + cpu::rms_norm.
// residual, x, normed_out: [num_rows, dim] f32 device (normed_out must not alias residual or x)
void add_rms_norm(float* residual, const float* x, const Tensor& weight, float eps, int64_t num_rows, int64_t dim,
                  float* normed_out);
}  // namespace tpserve::cuda
