// CUDA twin of kernels/cpu/token_mask.h: the structured-output mask applied to device logits.
// rows and masks are host arrays (uploaded through pinned scratch); queued on current_stream().
#pragma once
#include <cstdint>

namespace tpserve::cuda {
// logits: [*, vocab_size] f32 on the device, modified in place at rows[0..num_masked);
// masks: host [num_masked, words_per_row] u32 bitmasks.
void apply_token_mask(float* logits, int64_t vocab_size, const int32_t* rows, const uint32_t* masks,
                      int64_t num_masked, int64_t words_per_row);
}  // namespace tpserve::cuda
