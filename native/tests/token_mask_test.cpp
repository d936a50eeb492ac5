// apply_token_mask (CPU): against a naive per-id check, rows outside the list untouched, ids past
// a short mask refused; and the engine-level effect on sampling: the greedy token is the best
// allowed one. Run: ctest -R TokenMask
#include "kernels/cpu/token_mask.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/cpu/sample.h"
#include "test_util.h"

namespace tpserve {
namespace {

TEST(TokenMask, MasksExactlyTheRefusedIdsOfTheListedRows) {
  const int64_t rows = 4, vocab = 1000, words = (vocab + 31) / 32;
  auto logits = test::random_floats(static_cast<size_t>(rows * vocab), 7);
  const auto original = logits;
  const int32_t masked_rows[] = {1, 3};
  std::vector<uint32_t> masks(2 * words);
  for (size_t i = 0; i < masks.size(); i++) masks[i] = static_cast<uint32_t>(i * 2654435761u);
  // whole words refused / allowed (the kernel's fast paths), the last (partial) word included
  masks[3] = 0u, masks[4] = 0xffffffffu, masks[words - 1] = 0xffffffffu, masks[words + 5] = 0u, masks[2 * words - 1] = 0u;
  cpu::apply_token_mask(logits.data(), vocab, masked_rows, masks.data(), 2, words);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t id = 0; id < vocab; id++) {
      const int m = r == 1 ? 0 : r == 3 ? 1 : -1;
      const bool allowed = m < 0 || ((masks[m * words + id / 32] >> (id % 32)) & 1u);
      const float got = logits[r * vocab + id];
      if (allowed) ASSERT_EQ(got, original[r * vocab + id]) << r << "," << id;
      else ASSERT_TRUE(std::isinf(got) && got < 0) << r << "," << id;
    }
}

TEST(TokenMask, IdsPastAShortMaskAreRefused) {
  std::vector<float> logits(40, 1.0f);
  const int32_t row = 0;
  const uint32_t mask = 0xffffffffu;
  cpu::apply_token_mask(logits.data(), 40, &row, &mask, 1, 1);
  for (int id = 0; id < 40; id++) EXPECT_EQ(std::isinf(logits[id]), id >= 32) << id;
}

TEST(TokenMask, GreedySamplingTakesTheBestAllowedToken) {
  const int64_t vocab = 300;
  auto logits = test::random_floats(vocab, 9);
  std::vector<uint32_t> mask((vocab + 31) / 32, 0);
  for (int id : {5, 77, 123, 299}) mask[id / 32] |= 1u << (id % 32);
  int best = 5;
  for (int id : {77, 123, 299}) if (logits[id] > logits[best]) best = id;
  const int32_t row = 0;
  cpu::apply_token_mask(logits.data(), vocab, &row, mask.data(), 1, static_cast<int64_t>(mask.size()));
  SamplingParams p;
  p.temperature = 0.0f;
  SamplerBatch b;
  b.num_seqs = 1;
  b.vocab_size = vocab;
  b.params = &p;
  SampleResult r;
  cpu::sample(logits.data(), b, &r);
  EXPECT_EQ(r.token, best);
  p.temperature = 1.0f;  // and a random draw never leaves the allowed set
  for (uint64_t seed = 0; seed < 50; seed++) {
    p.seed = seed;
    cpu::sample(logits.data(), b, &r);
    EXPECT_TRUE((mask[r.token / 32] >> (r.token % 32)) & 1u) << r.token;
  }
}

}  // namespace
}  // namespace tpserve
