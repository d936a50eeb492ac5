// Private hooks of the CPU sampler, for tests: the processed distribution of one sequence
// (after masking, penalties, temperature, top-k, top-p and min-p), before the draw.
#pragma once
#include <cstdint>
#include <vector>

#include "tpserve/sampling.h"

namespace tpserve::cpu::detail {

// Penalty history of one sequence (one row of SamplerBatch's CSR arrays).
struct SeqHistory {
  const int32_t* tokens = nullptr;         // [num]
  const int32_t* output_counts = nullptr;  // [num] times generated
  const uint8_t* in_prompt = nullptr;      // [num] 1 if in the prompt
  int64_t num = 0;
};

struct KeptToken {
  int32_t token;
  double prob;  // renormalised over the kept set
};

// The kept tokens in draw order (descending, ties by lower id) with their renormalised
// probabilities; greedy (temperature < 1e-5) gives the argmax with probability 1.
// logits: [vocab_size] f32 raw.
std::vector<KeptToken> processed_distribution(const float* logits, int64_t vocab_size,
                                              const SamplingParams& params, const SeqHistory& history);

}  // namespace tpserve::cpu::detail
