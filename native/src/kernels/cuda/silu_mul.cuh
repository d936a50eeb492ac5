// CUDA SwiGLU activation (twin of kernels/cpu/silu_mul.h): out = silu(gate) * up.
#pragma once
#include <cstdint>

namespace tpserve::cuda {
// gate, up, out: [n] f32 device (out may alias gate or up)
void silu_mul(const float* gate, const float* up, int64_t n, float* out);
}  // namespace tpserve::cuda
