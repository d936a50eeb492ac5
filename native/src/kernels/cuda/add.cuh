// CUDA element-wise adds (twins of kernels/cpu/add.h): the residual add and the broadcast bias
// add used after an all-reduce. Device pointers; queued on current_stream().
#pragma once
#include "tpserve/tensor.h"

namespace tpserve::cuda {
// out = a + b, [n] f32 (out may alias a or b)
void add(const float* a, const float* b, int64_t n, float* out);
// y[r, :] += bias for every row; y: [num_rows, bias.numel()] f32; bias on the device, any dtype
void add_bias(float* y, const Tensor& bias, int64_t num_rows);
}  // namespace tpserve::cuda
