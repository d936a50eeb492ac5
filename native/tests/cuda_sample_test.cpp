// The CUDA sampler against the CPU sampler (kernels/cpu/sample.cpp, docs/sampling.md): greedy
// tokens equal, seeded draws give the same token for the same (seed, counter) on continuous
// random logits (no near-ties), raw logprobs and top logprobs within 1e-4, ties and flat
// distributions (the bisection path), the logits left unmodified, NaN logits rejected.
// Skips with "no CUDA GPU found" on machines without a GPU.
#ifdef TPSERVE_WITH_CUDA
#include "cuda_test_util.h"

namespace tpserve::test {
namespace {

struct Batch {
  int64_t vocab = 0;
  std::vector<float> logits;  // [num_seqs, vocab]
  std::vector<SamplingParams> params;
  std::vector<uint64_t> counters;
  std::vector<int32_t> hist_start{0}, hist_tokens, hist_counts;
  std::vector<uint8_t> hist_prompt;

  // A sequence with normal(0, sigma) logits and `num_history` distinct history ids.
  void add(const SamplingParams& p, uint64_t counter, float sigma, int num_history, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.f, sigma > 0.f ? sigma : 1.f);
    for (int64_t i = 0; i < vocab; i++) logits.push_back(sigma > 0.f ? normal(rng) : 0.f);
    params.push_back(p);
    counters.push_back(counter);
    std::vector<int32_t> ids(vocab);
    for (int64_t i = 0; i < vocab; i++) ids[i] = static_cast<int32_t>(i);
    std::shuffle(ids.begin(), ids.end(), rng);
    for (int j = 0; j < num_history; j++) {
      hist_tokens.push_back(ids[j]);
      hist_counts.push_back(static_cast<int32_t>(rng() % 4));
      hist_prompt.push_back(static_cast<uint8_t>(rng() % 2));
    }
    hist_start.push_back(static_cast<int32_t>(hist_tokens.size()));
  }
  SamplerBatch view() const {
    SamplerBatch b;
    b.num_seqs = static_cast<int64_t>(params.size());
    b.vocab_size = vocab;
    b.params = params.data();
    b.rng_counters = counters.data();
    b.history_start = hist_start.data();
    b.history_tokens = hist_tokens.data();
    b.history_output_counts = hist_counts.data();
    b.history_in_prompt = hist_prompt.data();
    return b;
  }
};

// Runs both samplers; expects equal tokens and logprobs within 1e-4. Returns the GPU results.
std::vector<SampleResult> expect_same(const Batch& b) {
  const SamplerBatch view = b.view();
  std::vector<SampleResult> want(view.num_seqs), got(view.num_seqs);
  cpu::sample(b.logits.data(), view, want.data());
  Dev<float> d_logits(b.logits);
  cuda::sample(d_logits.ptr, view, got.data());
  EXPECT_EQ(d_logits.get(), b.logits) << "the CUDA sampler must leave the logits as they were";
  for (int64_t s = 0; s < view.num_seqs; s++) {
    const SamplingParams& p = b.params[s];
    EXPECT_EQ(got[s].token, want[s].token) << "sequence " << s << " T=" << p.temperature << " top_k=" << p.top_k
                                           << " top_p=" << p.top_p << " min_p=" << p.min_p << " seed=" << p.seed;
    EXPECT_NEAR(got[s].logprob, want[s].logprob, 1e-4) << "sequence " << s;
    EXPECT_EQ(got[s].top_logprobs.size(), want[s].top_logprobs.size()) << "sequence " << s;
    for (size_t j = 0; j < std::min(got[s].top_logprobs.size(), want[s].top_logprobs.size()); j++) {
      EXPECT_EQ(got[s].top_logprobs[j].first, want[s].top_logprobs[j].first) << "sequence " << s << " rank " << j;
      EXPECT_NEAR(got[s].top_logprobs[j].second, want[s].top_logprobs[j].second, 1e-4) << "sequence " << s;
    }
  }
  return got;
}

using CudaSample = CudaTest;

TEST_F(CudaSample, GreedyMatchesCpu) {
  Batch b;
  b.vocab = 1537;
  SamplingParams p;
  p.temperature = 0.f;
  p.num_top_logprobs = 5;
  b.add(p, 0, 3.f, 0, 1);
  SamplingParams rep = p;
  rep.repetition_penalty = 1.3f;
  rep.num_top_logprobs = 0;
  b.add(rep, 0, 3.f, 40, 2);
  SamplingParams pres = p;
  pres.presence_penalty = 0.5f;
  pres.frequency_penalty = 0.3f;
  pres.num_top_logprobs = -1;
  b.add(pres, 0, 3.f, 25, 3);
  SamplingParams limit = p;
  limit.vocab_limit = 1000;
  limit.num_top_logprobs = 20;
  b.add(limit, 0, 3.f, 10, 4);
  expect_same(b);
}

TEST_F(CudaSample, SeededDrawsMatchCpu) {
  struct Setting {
    float temperature, top_p, min_p;
    int32_t top_k;
  };
  const Setting settings[] = {{0.8f, 1.f, 0.f, 40},     {1.f, 0.9f, 0.f, 0},  {1.2f, 0.95f, 0.05f, 200},
                              {0.7f, 1.f, 0.f, 0},      {1.f, 1.f, 0.1f, 0},  {1.5f, 0.5f, 0.f, 5000},
                              {2.0f, 0.99f, 0.f, 0},    {1.f, 0.f, 0.f, 0}};
  for (int64_t vocab : {1537, 155136}) {
    Batch b;
    b.vocab = vocab;
    uint32_t seed = 10;
    for (const Setting& st : settings)
      for (uint64_t counter : {0, 1, 7}) {
        SamplingParams p;
        p.temperature = st.temperature, p.top_p = st.top_p, p.min_p = st.min_p, p.top_k = st.top_k;
        p.repetition_penalty = 1.1f, p.frequency_penalty = 0.2f;
        p.seed = 1000 + seed;
        p.num_top_logprobs = counter == 1 ? 3 : -1;
        b.add(p, counter, 2.5f, 30, seed++);
      }
    expect_same(b);
  }
}

// All logits equal: one bucket holds the whole vocabulary, ordered by id (the bisection path).
TEST_F(CudaSample, FlatDistributionMatchesCpu) {
  Batch b;
  b.vocab = 155136;
  const std::pair<float, int32_t> cuts[] = {{0.5f, 0}, {1.f, 100000}, {0.3f, 9000}, {1.f, 0}};
  uint64_t counter = 3;
  for (auto [top_p, top_k] : cuts) {
    SamplingParams p;
    p.top_p = top_p, p.top_k = top_k, p.seed = 42, p.num_top_logprobs = 4;
    b.add(p, counter++, 0.f, 0, 5);
  }
  expect_same(b);
}

TEST_F(CudaSample, NanLogitsThrow) {
  Batch b;
  b.vocab = 301;
  SamplingParams p;
  b.add(p, 0, 1.f, 0, 6);
  b.logits[17] = std::nanf("");
  Dev<float> d(b.logits);
  std::vector<SampleResult> out(1);
  EXPECT_THROW(cuda::sample(d.ptr, b.view(), out.data()), Error);
}

}  // namespace
}  // namespace tpserve::test
#endif  // TPSERVE_WITH_CUDA
