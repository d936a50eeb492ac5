// Structured-output token mask (CPU): logits of the ids a row's bitmask does not allow become
// -inf, so the sampler (and its logprobs) only sees what the grammar permits.
#pragma once
#include <cstdint>

namespace tpserve::cpu {
// logits: [*, vocab_size] f32, modified in place at rows[0..num_masked);
// masks: [num_masked, words_per_row] u32 bitmasks (bit i of word w allows id 32 * w + i).
// Ids past the mask (words_per_row * 32 < vocab_size) are not allowed.
void apply_token_mask(float* logits, int64_t vocab_size, const int32_t* rows, const uint32_t* masks,
                      int64_t num_masked, int64_t words_per_row);
}  // namespace tpserve::cpu
