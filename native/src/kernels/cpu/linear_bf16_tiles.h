// CPU linear layer on a BF16 weight in the 16-row tile layout (tpserve/bf16_weight_tiles.h):
// y = x . W^T (+ bias). Few rows (decode): a GEMV over the tiles, each thread one sequential
// stream; many rows (prefill): the blocked float GEMM of linear(), its panels copied out of the
// tiles. AVX-512, AVX2 and portable paths, chosen at run time (cpu_isa.h).
#pragma once
#include "tpserve/linear_weight.h"

namespace tpserve::cpu {
// x: [m, k] f32; weight: tiled BF16 [n, k]; bias: [n] any float dtype or nullptr; y: [m, n] f32.
// batch_invariant: the GEMV at any m (a row's result does not depend on the call's other rows).
void linear_bf16_tiles(const float* x, const LinearWeight& weight, const Tensor* bias, int64_t m, float* y,
                       bool batch_invariant = false);
}  // namespace tpserve::cpu
