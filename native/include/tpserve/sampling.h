// Sampling parameters and the sampler's input/output records, shared by the CPU and CUDA
// samplers. The order of operations (documented in docs/sampling.md) is: raw logprobs for the
// response; mask ids >= vocab_limit; repetition, presence and frequency penalties;
// temperature (0 = greedy); top-k; top-p; min-p; draw with a per-sequence counter-based RNG.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

// The RNG below is also compiled for the GPU sampler (kernels/cuda/sample_kernel.cu).
#if defined(__CUDACC__)
#define TPS_HOST_DEVICE __host__ __device__
#else
#define TPS_HOST_DEVICE
#endif

namespace tpserve {

struct SamplingParams {
  float temperature = 1.0f;         // 0 (or below 1e-5) means greedy argmax
  int32_t top_k = 0;                // <= 0: off
  float top_p = 1.0f;               // 1: off
  float min_p = 0.0f;               // 0: off
  float repetition_penalty = 1.0f;  // prompt and output tokens (HF/vLLM style: divide positive, multiply negative)
  float presence_penalty = 0.0f;    // output tokens only
  float frequency_penalty = 0.0f;   // output tokens only, times their count
  uint64_t seed = 0;                // the engine draws one when the request gives none
  int32_t num_top_logprobs = -1;    // -1: no logprobs; 0: chosen token only; k: chosen + top k
  int32_t vocab_limit = 0;          // ids >= vocab_limit are never sampled (0: no limit)
};

// Penalty history of one sequence: distinct token ids with how often each was generated and
// whether it occurs in the prompt. Laid out CSR-style over the batch.
struct SamplerBatch {
  int64_t num_seqs = 0;
  int64_t vocab_size = 0;
  const SamplingParams* params = nullptr;   // [num_seqs]
  const uint64_t* rng_counters = nullptr;   // [num_seqs] index of this draw within the sequence
  const int32_t* history_start = nullptr;   // [num_seqs + 1]
  const int32_t* history_tokens = nullptr;  // [history_start[num_seqs]]
  const int32_t* history_output_counts = nullptr;
  const uint8_t* history_in_prompt = nullptr;
};

struct SampleResult {
  int32_t token = -1;
  float logprob = 0.0f;                              // log-softmax of the raw logits
  std::vector<std::pair<int32_t, float>> top_logprobs;  // best first, ties by lower id
};

// Counter-based uniform draw in [0, 1): the same (seed, counter) gives the same number on
// every backend, rank and batch composition.
TPS_HOST_DEVICE inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
TPS_HOST_DEVICE inline double sampler_uniform(uint64_t seed, uint64_t counter) {
  uint64_t bits = splitmix64(splitmix64(seed) ^ (counter * 0xd1b54a32d192ed03ull + 1));
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace tpserve
