// SequenceError: a step rejected because of one sequence (unknown id, wrong start position,
// short block table, block id or token out of range). Thrown by validation before the step
// touches any state, so the caller may end that sequence alone and go on with the others.
#pragma once
#include <cstdint>

#include "tpserve/error.h"

namespace tpserve {

class SequenceError : public Error {
 public:
  SequenceError(uint64_t seq_id, const std::string& message, const char* file, int line)
      : Error(message, file, line), seq_id_(seq_id) {}
  uint64_t seq_id() const { return seq_id_; }

 private:
  uint64_t seq_id_;
};

}  // namespace tpserve

// TPS_CHECK_SEQ(cond, seq_id, "message parts", ...): throw SequenceError for seq_id when cond is false.
#define TPS_CHECK_SEQ(cond, seq_id, ...)                                                                        \
  do {                                                                                                          \
    if (!(cond)) throw ::tpserve::SequenceError((seq_id), ::tpserve::detail::concat(__VA_ARGS__), __FILE__, __LINE__); \
  } while (0)
