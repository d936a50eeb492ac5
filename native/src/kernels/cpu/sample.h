// CPU sampler: penalties, temperature, top-k/top-p/min-p, seeded draw and logprobs per sequence.
#pragma once
#include "tpserve/sampling.h"

namespace tpserve::cpu {
// logits: [batch.num_seqs, batch.vocab_size] f32 (not modified); out: [batch.num_seqs]
void sample(const float* logits, const SamplerBatch& batch, SampleResult* out);
}  // namespace tpserve::cpu
