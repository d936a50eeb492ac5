// Placeholder tokens of a pipelined step: a placeholder is accepted only where this rank saw the
// sequence's last token sampled, and stands for exactly that token; real ids keep the vocabulary
// check. Run: ctest -R PlaceholderTokens
#include "engine/placeholder_tokens.h"

#include <gtest/gtest.h>

namespace tpserve {
namespace {

SequenceState sampled_at(int64_t pos, int32_t token) {
  SequenceState st;
  st.num_cached = pos;
  st.sampled_pos = pos;
  st.sampled_token = token;
  return st;
}

TEST(PlaceholderTokens, StandsForTheTokenSampledAtItsPosition) {
  const SequenceState st = sampled_at(12, 417);
  EXPECT_NO_THROW(check_step_token(3, &st, 12, kPlaceholderToken, 1000));
  EXPECT_EQ(resolve_step_token(st, kPlaceholderToken), 417);
  EXPECT_EQ(resolve_step_token(st, 5), 5);  // a real token is computed as given
}

TEST(PlaceholderTokens, RefusedAtAnyOtherPositionOrWithoutASample) {
  const SequenceState st = sampled_at(12, 417);
  for (int64_t pos : {11, 13, 0}) {
    try {
      check_step_token(3, &st, pos, kPlaceholderToken, 1000);
      FAIL() << "accepted a placeholder at " << pos;
    } catch (const SequenceError& e) {
      EXPECT_EQ(e.seq_id(), 3u);
      EXPECT_NE(std::string(e.what()).find("placeholder at position"), std::string::npos) << e.what();
    }
  }
  SequenceState fresh;  // never sampled on this rank (no share_samples, or a new sequence)
  EXPECT_THROW(check_step_token(4, &fresh, 0, kPlaceholderToken, 1000), SequenceError);
  EXPECT_THROW(check_step_token(4, nullptr, 0, kPlaceholderToken, 1000), SequenceError);
}

TEST(PlaceholderTokens, RealTokensKeepTheVocabularyCheck) {
  const SequenceState st = sampled_at(2, 1);
  EXPECT_NO_THROW(check_step_token(1, &st, 0, 999, 1000));
  EXPECT_THROW(check_step_token(1, &st, 0, 1000, 1000), SequenceError);
  EXPECT_THROW(check_step_token(1, &st, 0, -2, 1000), SequenceError);
}

}  // namespace
}  // namespace tpserve
