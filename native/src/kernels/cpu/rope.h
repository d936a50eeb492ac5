// CPU rotary position embedding, rotate-half (NeoX) layout, applied in place.
#pragma once
#include <cstdint>

namespace tpserve::cpu {
// x: [num_tokens, num_heads, head_dim] f32, rotated in place over the full head_dim.
// cos, sin: [num_tokens, head_dim / 2] for each token's position (the model computes them once
// per step in double precision from inv_freq).
void rope(float* x, const float* cos, const float* sin, int64_t num_tokens, int64_t num_heads, int64_t head_dim);
}  // namespace tpserve::cpu
