// Placeholder tokens of a pipelined step (async scheduling): the coordinator sends step N+1
// before step N's sampled tokens are known, so a decode entry of N+1 carries kPlaceholderToken
// where N's token goes. Every rank remembers the last token sampled for each sequence (rank 0
// samples and, when the step asks, broadcasts the ids; see EngineImpl::share_samples) and puts
// it in place here. Pure logic, no backend: tests in native/tests/placeholder_tokens_test.cpp.
#pragma once
#include <cstdint>

#include "engine/sequence_state.h"
#include "tpserve/sequence_error.h"

namespace tpserve {

// Matches PLACEHOLDER_TOKEN of libs/scheduler/src/scheduler-output.ts.
constexpr int32_t kPlaceholderToken = -1;

// Throws a SequenceError unless the token at `pos` is known: a real id in [0, vocab), or a
// placeholder for the token this rank saw sampled at exactly `pos`.
inline void check_step_token(uint64_t seq_id, const SequenceState* st, int64_t pos, int32_t token, int64_t vocab) {
  if (token == kPlaceholderToken) {
    const int64_t sampled = st != nullptr ? st->sampled_pos : -1;
    TPS_CHECK_SEQ(sampled == pos, seq_id, "sequence ", seq_id, ": a placeholder at position ", pos,
                  " but the last token sampled for it ", sampled < 0 ? "is unknown" : "is at another position",
                  " (was the step before it sent with share_samples, and did it sample this sequence?)");
    return;
  }
  TPS_CHECK_SEQ(token >= 0 && token < vocab, seq_id, "sequence ", seq_id, ": token ", token, " outside the vocabulary [0, ",
                vocab, ")");
}

// The token to compute at `pos`: the given one, or the sampled token a placeholder stands for
// (check_step_token has vouched for it).
inline int32_t resolve_step_token(const SequenceState& st, int32_t token) {
  return token == kPlaceholderToken ? st.sampled_token : token;
}

}  // namespace tpserve
