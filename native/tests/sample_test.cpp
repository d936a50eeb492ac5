// CPU sampler tests: greedy, seeded draws, top-k/top-p/min-p, penalties, logprobs and the vocab
// limit, against hand-computed cases and a naive float64 reference.
//   ctest --test-dir native/build --output-on-failure -R Sample
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

#include "kernels/cpu/sample.h"
#include "kernels/cpu/sample_internal.h"
#include "tpserve/error.h"

namespace tpserve::cpu {
namespace {

using detail::KeptToken;
using detail::processed_distribution;
using detail::SeqHistory;

// Samples one sequence with no history.
SampleResult sample_one(const std::vector<float>& logits, const SamplingParams& p, uint64_t counter = 0) {
  SamplerBatch b;
  b.num_seqs = 1;
  b.vocab_size = static_cast<int64_t>(logits.size());
  b.params = &p;
  b.rng_counters = &counter;
  SampleResult r;
  sample(logits.data(), b, &r);
  return r;
}

std::vector<float> random_logits(int64_t n, uint32_t seed, float scale = 3.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Naive float64 reference of steps 2-5 (full sort), penalties already applied to y.
std::vector<KeptToken> naive_distribution(std::vector<float> y, const SamplingParams& p) {
  int64_t n = p.vocab_limit > 0 ? std::min<int64_t>(p.vocab_limit, y.size()) : y.size();
  y.resize(n);
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return y[a] > y[b]; });
  if (p.temperature < 1e-5f) return {{order[0], 1.0}};
  std::vector<double> w(n);
  for (int64_t i = 0; i < n; i++) w[i] = std::exp((double(y[i]) - y[order[0]]) / p.temperature);
  size_t kept = n;
  if (p.top_k > 0) kept = std::min<size_t>(kept, p.top_k);
  double total = 0;
  for (size_t j = 0; j < kept; j++) total += w[order[j]];
  if (p.top_p < 1.0f) {
    double cum = 0;
    for (size_t j = 0; j < kept; j++) {
      cum += w[order[j]] / total;
      if (cum >= p.top_p) {
        kept = j + 1;
        break;
      }
    }
  }
  size_t min_p_kept = 0;
  while (min_p_kept < kept && w[order[min_p_kept]] >= p.min_p) min_p_kept++;
  kept = std::max<size_t>(1, min_p_kept);
  double mass = 0;
  for (size_t j = 0; j < kept; j++) mass += w[order[j]];
  std::vector<KeptToken> out;
  for (size_t j = 0; j < kept; j++) out.push_back({order[j], w[order[j]] / mass});
  return out;
}

int32_t naive_draw(const std::vector<KeptToken>& dist, double u) {
  double cum = 0;
  for (const auto& k : dist)
    if ((cum += k.prob) > u) return k.token;
  return dist.back().token;
}

void expect_same_distribution(const std::vector<KeptToken>& got, const std::vector<KeptToken>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t j = 0; j < got.size(); j++) {
    EXPECT_EQ(got[j].token, want[j].token) << "position " << j;
    EXPECT_NEAR(got[j].prob, want[j].prob, 1e-6 * want[j].prob + 1e-12) << "position " << j;
  }
}

std::vector<float> log_of(const std::vector<double>& probs) {
  std::vector<float> v;
  for (double p : probs) v.push_back(static_cast<float>(std::log(p)));
  return v;
}

TEST(SampleTest, GreedyIsArgmaxWithTiesToLowestId) {
  std::vector<float> logits = random_logits(1000, 1);
  logits[417] = 50.0f;
  logits[903] = 50.0f;
  SamplingParams p;
  p.temperature = 0.0f;
  EXPECT_EQ(sample_one(logits, p).token, 417);
  p.temperature = 5e-6f;
  EXPECT_EQ(sample_one(logits, p, 12345).token, 417);
}

TEST(SampleTest, TopK1IsGreedyAtAnyTemperature) {
  for (uint32_t seed = 0; seed < 5; seed++) {
    std::vector<float> logits = random_logits(5000, seed, 0.5f);
    int32_t argmax = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    for (float t : {0.3f, 1.0f, 2.0f, 100.0f}) {
      SamplingParams p;
      p.temperature = t;
      p.top_k = 1;
      p.seed = seed;
      for (uint64_t c = 0; c < 10; c++) EXPECT_EQ(sample_one(logits, p, c).token, argmax);
    }
  }
}

TEST(SampleTest, SameSeedAndCounterGiveTheSameToken) {
  std::vector<float> logits(100, 0.0f);  // uniform
  SamplingParams p;
  p.seed = 42;
  std::set<int32_t> seen;
  for (uint64_t c = 0; c < 64; c++) {
    int32_t t = sample_one(logits, p, c).token;
    EXPECT_EQ(sample_one(logits, p, c).token, t);
    seen.insert(t);
  }
  EXPECT_GT(seen.size(), 20u);  // counters vary the draw
  p.seed = 43;
  int differ = 0;
  for (uint64_t c = 0; c < 64; c++) differ += sample_one(logits, p, c).token != sample_one(logits, SamplingParams{}, c).token;
  EXPECT_GT(differ, 32);

  // batch composition does not matter: the same sequence at another position draws the same
  const int64_t num_seqs = 4, vocab = 100;
  std::vector<float> batch_logits(num_seqs * vocab);
  for (int64_t s = 0; s < num_seqs; s++)
    std::copy(logits.begin(), logits.end(), batch_logits.begin() + s * vocab);
  std::vector<SamplingParams> params(num_seqs, p);
  std::vector<uint64_t> counters = {7, 8, 9, 7};
  SamplerBatch b{num_seqs, vocab, params.data(), counters.data()};
  std::vector<SampleResult> out(num_seqs);
  sample(batch_logits.data(), b, out.data());
  EXPECT_EQ(out[0].token, out[3].token);
  EXPECT_EQ(out[0].token, sample_one(logits, p, 7).token);
}

TEST(SampleTest, DrawsFollowSoftmaxOverTemperature) {
  const std::vector<float> logits = {1.0f, 0.5f, -0.3f, 2.0f, 0.0f, -1.5f, 1.2f, 0.9f};
  const int64_t vocab = logits.size(), num_draws = 20000;
  const float t = 0.8f;
  std::vector<float> batch_logits;
  for (int64_t i = 0; i < num_draws; i++) batch_logits.insert(batch_logits.end(), logits.begin(), logits.end());
  SamplingParams p;
  p.temperature = t;
  p.seed = 2024;
  std::vector<SamplingParams> params(num_draws, p);
  std::vector<uint64_t> counters(num_draws);
  std::iota(counters.begin(), counters.end(), 0);
  SamplerBatch b{num_draws, vocab, params.data(), counters.data()};
  std::vector<SampleResult> out(num_draws);
  sample(batch_logits.data(), b, out.data());  // large enough to run on the pool

  std::vector<double> expected(vocab);
  double z = 0;
  for (int64_t i = 0; i < vocab; i++) z += expected[i] = std::exp(logits[i] / t);
  std::vector<int> counts(vocab, 0);
  for (const auto& r : out) counts.at(r.token)++;
  for (int64_t i = 0; i < vocab; i++) {
    double prob = expected[i] / z, sigma = std::sqrt(num_draws * prob * (1 - prob));
    EXPECT_NEAR(counts[i], num_draws * prob, 4.5 * sigma) << "token " << i;
  }
}

TEST(SampleTest, TopPKeepsTheSmallestPrefixReachingTheMass) {
  // probabilities 0.1, 0.4, 0.2, 0.3 at ids 0..3: descending 1 (0.4), 3 (0.3), 2 (0.2), 0 (0.1)
  std::vector<float> logits = log_of({0.1, 0.4, 0.2, 0.3});
  SamplingParams p;
  p.top_p = 0.65f;  // 0.4 < 0.65 <= 0.7
  expect_same_distribution(processed_distribution(logits.data(), 4, p, {}), {{1, 4.0 / 7}, {3, 3.0 / 7}});
  p.top_p = 0.3f;  // the first token alone reaches it
  expect_same_distribution(processed_distribution(logits.data(), 4, p, {}), {{1, 1.0}});
  p.top_p = 0.95f;
  EXPECT_EQ(processed_distribution(logits.data(), 4, p, {}).size(), 4u);
  // top-k first, then top-p over the renormalised top-k: 4/9, 3/9, 2/9 -> 4/9 < 0.75 <= 7/9
  p.top_k = 3;
  p.top_p = 0.75f;
  expect_same_distribution(processed_distribution(logits.data(), 4, p, {}), {{1, 4.0 / 7}, {3, 3.0 / 7}});
  // sampling never leaves the kept set
  p.top_k = 0;
  p.top_p = 0.65f;
  for (uint64_t c = 0; c < 200; c++) {
    int32_t t = sample_one(logits, p, c).token;
    EXPECT_TRUE(t == 1 || t == 3) << t;
  }
}

TEST(SampleTest, MinPDropsTokensBelowAFractionOfTheMax) {
  std::vector<float> logits = log_of({0.05, 0.5, 0.15, 0.3});
  SamplingParams p;
  p.min_p = 0.2f;  // threshold 0.1: id 0 (0.05) goes
  expect_same_distribution(processed_distribution(logits.data(), 4, p, {}),
                           {{1, 0.5 / 0.95}, {3, 0.3 / 0.95}, {2, 0.15 / 0.95}});
  p.min_p = 0.5f;  // threshold 0.25
  expect_same_distribution(processed_distribution(logits.data(), 4, p, {}), {{1, 0.5 / 0.8}, {3, 0.3 / 0.8}});
}

TEST(SampleTest, PenaltiesApplyToPromptAndOutputTokens) {
  const std::vector<float> logits = {2.0f, -1.0f, 1.5f, 0.5f, 1.8f};
  // id 0: prompt only; id 1: prompt only (negative); id 2: generated twice; id 3: prompt + generated once
  const std::vector<int32_t> tokens = {0, 1, 2, 3};
  const std::vector<int32_t> counts = {0, 0, 2, 1};
  const std::vector<uint8_t> in_prompt = {1, 1, 0, 1};
  SeqHistory h{tokens.data(), counts.data(), in_prompt.data(), 4};
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.25f;
  // 2/2 = 1; -1*2 = -2; 1.5/2 - 2*0.5 - 0.25 = -0.5; 0.5/2 - 0.5 - 0.25 = -0.5; 1.8 untouched
  const std::vector<double> y = {1.0, -2.0, -0.5, -0.5, 1.8};
  double z = 0;
  for (double v : y) z += std::exp(v);
  expect_same_distribution(processed_distribution(logits.data(), 5, p, h),
                           {{4, std::exp(1.8) / z}, {0, std::exp(1.0) / z}, {2, std::exp(-0.5) / z},
                            {3, std::exp(-0.5) / z}, {1, std::exp(-2.0) / z}});
  // greedy sees the penalised logits too: id 0 loses its lead to id 4
  p.temperature = 0.0f;
  EXPECT_EQ(processed_distribution(logits.data(), 5, p, h).front().token, 4);

  // through the batch API: presence alone flips the argmax from 0 to 4
  SamplingParams q;
  q.temperature = 0.0f;
  q.presence_penalty = 0.5f;
  const std::vector<int32_t> start = {0, 1};
  const std::vector<int32_t> hist_tok = {0}, hist_count = {1};
  const std::vector<uint8_t> hist_prompt = {0};
  uint64_t counter = 0;
  SamplerBatch b{1, 5, &q, &counter, start.data(), hist_tok.data(), hist_count.data(), hist_prompt.data()};
  SampleResult r;
  sample(logits.data(), b, &r);
  EXPECT_EQ(r.token, 4);
  q.presence_penalty = 0.1f;  // 1.9 > 1.8 still
  sample(logits.data(), b, &r);
  EXPECT_EQ(r.token, 0);
}

TEST(SampleTest, LogprobsAreTheRawLogSoftmax) {
  std::vector<float> logits = random_logits(5000, 7);
  logits[3] = logits[7] = 20.0f;  // tie for the best: 3 before 7
  SamplingParams p;
  p.temperature = 0.7f;  // neither temperature nor penalties change the reported logprobs
  p.repetition_penalty = 1.3f;
  p.top_k = 40;
  p.num_top_logprobs = 5;
  double m = *std::max_element(logits.begin(), logits.end()), z = 0;
  for (float v : logits) z += std::exp(double(v) - m);
  auto naive = [&](int32_t id) { return double(logits[id]) - m - std::log(z); };
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  for (uint64_t c = 0; c < 20; c++) {
    SampleResult r = sample_one(logits, p, c);
    EXPECT_NEAR(r.logprob, naive(r.token), 1e-5);
    ASSERT_EQ(r.top_logprobs.size(), 5u);
    for (int j = 0; j < 5; j++) {
      EXPECT_EQ(r.top_logprobs[j].first, order[j]);
      EXPECT_NEAR(r.top_logprobs[j].second, naive(order[j]), 1e-5);
    }
  }
  p.num_top_logprobs = 0;  // chosen token only
  SampleResult r = sample_one(logits, p, 3);
  EXPECT_TRUE(r.top_logprobs.empty());
  EXPECT_NEAR(r.logprob, naive(r.token), 1e-5);
}

TEST(SampleTest, VocabLimitMasksPaddedIds) {
  std::vector<float> logits = {0.1f, 0.3f, -0.2f, 0.0f, 0.2f, 0.05f, -0.1f, 0.15f, 9.0f, 8.0f};
  SamplingParams p;
  p.vocab_limit = 8;
  p.num_top_logprobs = 10;
  p.temperature = 0.0f;
  SampleResult r = sample_one(logits, p);
  EXPECT_EQ(r.token, 1);
  ASSERT_EQ(r.top_logprobs.size(), 8u);
  double z = 0;
  for (int i = 0; i < 8; i++) z += std::exp(double(logits[i]));
  EXPECT_NEAR(r.logprob, logits[1] - std::log(z), 1e-6);
  for (const auto& [id, lp] : r.top_logprobs) EXPECT_LT(id, 8);
  p.temperature = 5.0f;
  for (uint64_t c = 0; c < 500; c++) EXPECT_LT(sample_one(logits, p, c).token, 8);
}

TEST(SampleTest, MatchesNaiveReferenceAtFullVocab) {
  const int64_t vocab = 155136;
  std::vector<float> logits = random_logits(vocab, 99, 2.0f);
  struct Case {
    float temperature;
    int32_t top_k;
    float top_p, min_p;
  };
  for (Case c : {Case{1.0f, 0, 0.9f, 0.0f}, Case{0.7f, 50, 1.0f, 0.0f}, Case{1.3f, 0, 1.0f, 0.05f},
                 Case{0.6f, 200, 0.8f, 0.1f}, Case{1.0f, 20000, 0.95f, 0.0f}}) {
    SamplingParams p;
    p.temperature = c.temperature;
    p.top_k = c.top_k;
    p.top_p = c.top_p;
    p.min_p = c.min_p;
    p.seed = 5;
    p.vocab_limit = vocab - 100;
    auto want = naive_distribution(logits, p);
    expect_same_distribution(processed_distribution(logits.data(), vocab, p, {}), want);
    for (uint64_t k = 0; k < 8; k++)
      EXPECT_EQ(sample_one(logits, p, k).token, naive_draw(want, sampler_uniform(p.seed, k)));
  }
  // no filter at all: the draw walks the whole vocabulary
  SamplingParams p;
  p.seed = 11;
  auto want = naive_distribution(logits, p);
  for (uint64_t k = 0; k < 16; k++) EXPECT_EQ(sample_one(logits, p, k).token, naive_draw(want, sampler_uniform(11, k)));
}

TEST(SampleTest, RejectsNaNLogits) {
  std::vector<float> logits = {0.0f, NAN, 1.0f};
  EXPECT_THROW(sample_one(logits, SamplingParams{}), Error);
}

}  // namespace
}  // namespace tpserve::cpu
