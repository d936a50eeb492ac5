// SequenceError: a per-sequence validation error carries its sequence id, is a tpserve::Error
// (callers that only know Error still catch it) and names file:line like every core error.
#include <gtest/gtest.h>

#include <string>

#include "tpserve/sequence_error.h"

namespace {

void check_token(uint64_t seq_id, int32_t token, int32_t vocab) {
  TPS_CHECK_SEQ(token >= 0 && token < vocab, seq_id, "sequence ", seq_id, ": token ", token, " outside the vocabulary");
}

TEST(SequenceError, CarriesTheSequenceIdAndMessage) {
  try {
    check_token(42, 1000, 64);
    FAIL() << "no throw";
  } catch (const tpserve::SequenceError& e) {
    EXPECT_EQ(e.seq_id(), 42u);
    std::string what = e.what();
    EXPECT_NE(what.find("sequence 42: token 1000 outside the vocabulary"), std::string::npos) << what;
    EXPECT_NE(what.find("sequence_error_test.cpp:"), std::string::npos) << what;
  }
}

TEST(SequenceError, IsATpserveError) {
  EXPECT_THROW(check_token(7, -1, 64), tpserve::Error);
  EXPECT_NO_THROW(check_token(7, 63, 64));
}

}  // namespace
