// CPU SwiGLU activation: out = silu(gate) * up.
#pragma once
#include <cstdint>

namespace tpserve::cpu {
// gate, up, out: [n] f32 (out may alias gate or up)
void silu_mul(const float* gate, const float* up, int64_t n, float* out);
}  // namespace tpserve::cpu
