// CUDA sampler (twin of kernels/cpu/sample.h): penalties, temperature, top-k/top-p/min-p, the
// seeded draw and raw logprobs, on the GPU so the logits never leave it; only the per-sequence
// parameters go up and only the results come back.
#pragma once
#include "tpserve/sampling.h"

namespace tpserve::cuda {
// logits: [batch.num_seqs, batch.vocab_size] f32 device. Rows are penalised in place while the
// kernel runs and restored before it returns (same values after the call, as the CPU's "not
// modified"); do not read them from another stream meanwhile.
// batch: host arrays (SamplerBatch); history ids must be distinct per sequence (as documented).
// out: [batch.num_seqs] host. Synchronises the current stream. num_top_logprobs <= 4096.
void sample(const float* logits, const SamplerBatch& batch, SampleResult* out);
}  // namespace tpserve::cuda
