// CPU twin of the token mask: one pass over each masked row, a word (32 ids) at a time, touching
// only the refused ids. Tests: tests/token_mask_test.cpp.
#include "kernels/cpu/token_mask.h"

#include <algorithm>
#include <limits>

#include "tpserve/error.h"

namespace tpserve::cpu {

void apply_token_mask(float* logits, int64_t vocab_size, const int32_t* rows, const uint32_t* masks,
                      int64_t num_masked, int64_t words_per_row) {
  if (num_masked <= 0) return;
  TPS_CHECK(logits && rows && masks, "apply_token_mask: null pointer");
  TPS_CHECK(vocab_size > 0 && words_per_row > 0, "apply_token_mask: bad sizes ", vocab_size, ", ", words_per_row);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (int64_t m = 0; m < num_masked; m++) {
    TPS_CHECK(rows[m] >= 0, "apply_token_mask: bad row ", rows[m]);
    float* row = logits + static_cast<int64_t>(rows[m]) * vocab_size;
    const uint32_t* mask = masks + m * words_per_row;
    // word by word: an all-allowed word (free text) costs one test, a refused one a fill
    for (int64_t w = 0, base = 0; base < vocab_size; w++, base += 32) {
      const int64_t n = vocab_size - base < 32 ? vocab_size - base : 32;
      const uint32_t bits = w < words_per_row ? mask[w] : 0u;
      if (bits == 0xffffffffu) continue;
      if (bits == 0u) {
        std::fill(row + base, row + base + n, neg_inf);  // a structural position refuses most words whole
        continue;
      }
      // only the refused ids of the word (free text refuses a scattered ~10 %)
      uint32_t refused = ~bits;
      if (n < 32) refused &= (1u << n) - 1u;
      for (; refused != 0; refused &= refused - 1u) row[base + __builtin_ctz(refused)] = neg_inf;
    }
  }
}

}  // namespace tpserve::cpu
