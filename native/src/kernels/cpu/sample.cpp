// CPU sampler: raw logprobs, vocab mask, repetition/frequency/presence penalties, temperature
// (greedy below 1e-5), top-k, top-p, min-p and a counter-based seeded draw, one sequence at a
// time (sequences in parallel on the default pool). Order and RNG: docs/sampling.md.
// Tests: tests/sample_test.cpp (ctest -R Sample).
//
// Every filter keeps a prefix of the descending order (higher logit first, ties by lower id), so
// only what a cut or the draw reaches is ever sorted: top-k picks k ids with a bounded heap;
// otherwise ids are bucketed by how many nats they sit below the max and a bucket is sorted
// only when a walk over the cumulative mass enters it.
#include "kernels/cpu/sample.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/argmax.h"
#include "kernels/cpu/sample_internal.h"
#include "tpserve/error.h"
#include "tpserve/thread_pool.h"

namespace tpserve::cpu {
namespace {

using detail::KeptToken;
using detail::SeqHistory;

constexpr float kGreedyTemperature = 1e-5f;
constexpr int kBinsPerNat = 32;
constexpr float kMaxBinnedNats = 64.0f;                          // exp(-64) ~ 1.6e-28
constexpr int kNumBins = kBinsPerNat * 64 + 1;                   // last bin: everything further down
constexpr int64_t kParallelMinElements = int64_t(1) << 17;       // batch * vocab worth a parallel_for

// The sampler's order: higher value first, ties by lower id.
struct Better {
  const float* v;
  bool operator()(int32_t a, int32_t b) const { return v[a] > v[b] || (v[a] == v[b] && a < b); }
};

// out = the k best ids of v[0..n), best first (1 <= k <= n).
void select_top(const float* v, int32_t n, int32_t k, std::vector<int32_t>& out) {
  Better better{v};
  out.clear();
  if (k > n / 8) {  // large k: a heap would do n log k work, nth_element is linear
    out.resize(n);
    for (int32_t i = 0; i < n; i++) out[i] = i;
    std::nth_element(out.begin(), out.begin() + (k - 1), out.end(), better);
    out.resize(k);
  } else {
    // Bounded heap whose front is the worst kept id. Ids arrive in increasing order, so an
    // equal value never displaces a kept (lower) id.
    for (int32_t i = 0; i < k; i++) out.push_back(i);
    std::make_heap(out.begin(), out.end(), better);
    float worst = v[out.front()];
    for (int32_t i = k; i < n; i++) {
      if (v[i] > worst) {
        std::pop_heap(out.begin(), out.end(), better);
        out.back() = i;
        std::push_heap(out.begin(), out.end(), better);
        worst = v[out.front()];
      }
    }
  }
  std::sort(out.begin(), out.end(), better);
}

// Sum of doubles with four accumulators (keeps the adds pipelined).
double sum_f64(const float* v, int64_t n) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) a0 += v[i], a1 += v[i + 1], a2 += v[i + 2], a3 += v[i + 3];
  for (; i < n; i++) a0 += v[i];
  return (a0 + a1) + (a2 + a3);
}

struct Cut {
  int32_t pos;  // position in the descending order
  double cum;   // unnormalised mass of positions [0, pos]
};

// Per-thread scratch, reused across sequences and steps.
struct Scratch {
  std::vector<float> y;            // [n] penalised logits
  std::vector<float> w;            // [n] exp((y - max) / T), set for candidates
  std::vector<float> nats;         // [n] (max - y) / T
  std::vector<int32_t> ids;        // [num candidates] grouped by bucket, best bucket first
  std::vector<uint16_t> bin;       // [n] bucket of each id
  std::vector<int32_t> start;      // [num_buckets + 1] offsets into ids
  std::vector<int32_t> next;       // [num_buckets] scatter cursors
  std::vector<double> mass;        // [num_buckets] sum of w per bucket
  std::vector<uint8_t> is_sorted;  // [num_buckets]
  std::vector<int32_t> top;        // [num_top_logprobs]
  int num_buckets = 0;
  int32_t num_positive = 0;        // candidates with w > 0: a prefix; zero-weight ids are never drawn

  // Candidates = all ids [0, n); w and the buckets from the distance below the max in nats.
  void build_buckets(int32_t n, float max, float temperature) {
    num_buckets = kNumBins;
    start.assign(kNumBins + 1, 0);
    mass.assign(kNumBins, 0.0);
    is_sorted.assign(kNumBins, 0);
    w.resize(n);
    nats.resize(n);
    bin.resize(n);
    for (int32_t i = 0; i < n; i++) {
      nats[i] = (max - y[i]) / temperature;  // >= 0, monotone in y
      w[i] = std::exp(-nats[i]);
    }
    num_positive = 0;
    for (int32_t i = 0; i < n; i++) {
      num_positive += w[i] > 0.0f;
      int b = nats[i] < kMaxBinnedNats ? static_cast<int>(nats[i] * kBinsPerNat) : kNumBins - 1;
      bin[i] = static_cast<uint16_t>(b);
      start[b + 1]++;
      mass[b] += w[i];
    }
    for (int b = 0; b < kNumBins; b++) start[b + 1] += start[b];
    next.assign(start.begin(), start.end() - 1);
    ids.resize(n);
    for (int32_t i = 0; i < n; i++) ids[next[bin[i]]++] = i;
  }

  // Candidates = `sorted` (best first): one bucket, already in order.
  void build_sorted(float max, float temperature) {
    num_buckets = 1;
    num_positive = 0;
    double total = 0.0;
    w.resize(y.size());
    for (int32_t id : ids) {
      w[id] = std::exp((y[id] - max) / temperature);
      total += w[id];
      num_positive += w[id] > 0.0f;
    }
    start.assign({0, static_cast<int32_t>(ids.size())});
    mass.assign({total});
    is_sorted.assign({1});
  }

  int32_t size() const { return start[num_buckets]; }
  double total() const {
    double t = 0.0;
    for (int b = 0; b < num_buckets; b++) t += mass[b];
    return t;
  }

  void ensure_sorted(int b) {
    if (is_sorted[b]) return;
    std::sort(ids.begin() + start[b], ids.begin() + start[b + 1], Better{y.data()});
    is_sorted[b] = 1;
  }

  int32_t id_at(int32_t pos) {
    int b = static_cast<int>(std::upper_bound(start.begin(), start.begin() + num_buckets + 1, pos) - start.begin()) - 1;
    ensure_sorted(b);
    return ids[pos];
  }

  // First position below `limit` whose cumulative mass reaches target (>=, or > when strict);
  // the last position below limit when rounding leaves none. Whole buckets short of the target
  // are skipped by their mass, unsorted.
  Cut cross(double target, bool strict, int32_t limit) {
    auto reaches = [&](double cum) { return strict ? cum > target : cum >= target; };
    double cum = 0.0;
    for (int b = 0; b < num_buckets && start[b] < limit; b++) {
      int32_t hi = std::min(start[b + 1], limit);
      if (hi == start[b + 1] && !reaches(cum + mass[b])) {
        cum += mass[b];
        continue;
      }
      ensure_sorted(b);
      for (int32_t j = start[b]; j < hi; j++) {
        cum += w[ids[j]];
        if (reaches(cum)) return {j, cum};
      }
    }
    return {limit - 1, cum};
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

void check_history(const SeqHistory& h, int64_t vocab_size) {
  for (int64_t j = 0; j < h.num; j++)
    TPS_CHECK(h.tokens[j] >= 0 && h.tokens[j] < vocab_size, "sample: history token ", h.tokens[j], " outside vocab ", vocab_size);
}

void apply_penalties(float* y, int32_t n, const SamplingParams& p, const SeqHistory& h) {
  const float r = p.repetition_penalty;
  for (int64_t j = 0; j < h.num; j++) {
    int32_t t = h.tokens[j];
    if (t >= n) continue;  // masked anyway
    int32_t count = h.output_counts ? h.output_counts[j] : 0;
    bool in_prompt = h.in_prompt && h.in_prompt[j];
    float v = y[t];
    if (r != 1.0f && (in_prompt || count > 0)) v = v > 0.0f ? v / r : v * r;
    if (count > 0) {
      v -= static_cast<float>(count) * p.frequency_penalty;
      v -= p.presence_penalty;
    }
    y[t] = v;
  }
}

// log(sum(exp(logits[0..n)))) of the raw logits, summed in double.
double raw_log_normaliser(const float* logits, int32_t n, std::vector<float>& tmp) {
  float m = logits[0];
  for (int32_t i = 1; i < n; i++) m = logits[i] > m ? logits[i] : m;
  tmp.resize(n);
  for (int32_t i = 0; i < n; i++) tmp[i] = std::exp(logits[i] - m);
  return static_cast<double>(m) + std::log(sum_f64(tmp.data(), n));
}

// Steps 2-6 for one sequence. With `dist` set, fills the kept distribution instead of drawing.
int32_t process_and_draw(const float* logits, int64_t vocab_size, const SamplingParams& p, const SeqHistory& h,
                         uint64_t counter, int64_t seq, std::vector<KeptToken>* dist) {
  Scratch& s = scratch();
  const int32_t n = static_cast<int32_t>(p.vocab_limit > 0 ? std::min<int64_t>(p.vocab_limit, vocab_size) : vocab_size);
  TPS_CHECK(p.repetition_penalty > 0.0f && std::isfinite(p.repetition_penalty),
            "sample: sequence ", seq, " has repetition_penalty ", p.repetition_penalty, " (must be > 0)");
  TPS_CHECK(!std::isnan(p.temperature) && p.temperature >= 0.0f, "sample: sequence ", seq, " has temperature ",
            p.temperature);
  const bool greedy = p.temperature < kGreedyTemperature || n == 1;
  const bool neutral = p.repetition_penalty == 1.0f && p.frequency_penalty == 0.0f && p.presence_penalty == 0.0f;
  check_history(h, vocab_size);
  const float* y = logits;  // a greedy pick with no penalty reads the logits in place
  if (!greedy || !neutral) {
    s.y.assign(logits, logits + n);
    apply_penalties(s.y.data(), n, p, h);
    y = s.y.data();
  }

  // argmax, ties to the lowest id; NaN or a non-finite max is an error (a broken forward)
  const ArgMax top = argmax(y, n);
  TPS_CHECK(!top.has_nan, "sample: sequence ", seq, " has NaN logits");
  const float max = top.value;
  TPS_CHECK(std::isfinite(max), "sample: sequence ", seq, " has a non-finite max logit ", max);
  const int32_t best = static_cast<int32_t>(top.index);

  if (greedy) {
    if (dist) dist->assign({KeptToken{best, 1.0}});
    return best;
  }
  const bool use_top_k = p.top_k > 0 && p.top_k < n;
  if (use_top_k) {
    select_top(s.y.data(), n, p.top_k, s.ids);
    s.build_sorted(max, p.temperature);
  } else {
    s.build_buckets(n, max, p.temperature);
  }
  int32_t kept = s.num_positive;
  double kept_mass = s.total();
  if (p.top_p < 1.0f) {  // smallest prefix whose mass reaches top_p (at least one token)
    Cut c = s.cross(static_cast<double>(p.top_p) * kept_mass, false, kept);
    kept = c.pos + 1;
    kept_mass = c.cum;
  }
  if (p.min_p > 0.0f) {  // prob >= min_p * max prob  <=>  w >= min_p (w = 1 at the max); also a prefix
    int32_t count = 0;
    double mass = 0.0;
    for (int32_t j = 0; j < s.size(); j++) {
      float wi = s.w[s.ids[j]];
      if (wi >= p.min_p) count++, mass += wi;
    }
    if (count == 0) count = 1, mass = 1.0;  // min_p > 1: keep the max alone
    if (count < kept) kept = count, kept_mass = mass;
  }
  if (dist) {
    dist->clear();
    for (int32_t j = 0; j < kept; j++) {
      int32_t id = s.id_at(j);
      dist->push_back({id, s.w[id] / kept_mass});
    }
    return dist->front().token;
  }
  double u = sampler_uniform(p.seed, counter);
  return s.id_at(s.cross(u * kept_mass, true, kept).pos);
}

void sample_sequence(const float* logits, const SamplerBatch& batch, int64_t seq, SampleResult* out) {
  const SamplingParams& p = batch.params[seq];
  SeqHistory h;
  if (batch.history_start) {
    int32_t begin = batch.history_start[seq], end = batch.history_start[seq + 1];
    TPS_CHECK(0 <= begin && begin <= end, "sample: bad history_start for sequence ", seq);
    h.num = end - begin;
    if (h.num > 0) {
      TPS_CHECK(batch.history_tokens, "sample: history_tokens missing");
      h.tokens = batch.history_tokens + begin;
      h.output_counts = batch.history_output_counts ? batch.history_output_counts + begin : nullptr;
      h.in_prompt = batch.history_in_prompt ? batch.history_in_prompt + begin : nullptr;
    }
  }
  const uint64_t counter = batch.rng_counters ? batch.rng_counters[seq] : 0;
  const int32_t token = process_and_draw(logits, batch.vocab_size, p, h, counter, seq, nullptr);

  out->token = token;
  out->logprob = 0.0f;
  out->top_logprobs.clear();
  if (p.num_top_logprobs < 0) return;
  const int32_t n = static_cast<int32_t>(p.vocab_limit > 0 ? std::min<int64_t>(p.vocab_limit, batch.vocab_size)
                                                           : batch.vocab_size);
  const double lse = raw_log_normaliser(logits, n, scratch().nats);
  out->logprob = static_cast<float>(logits[token] - lse);
  const int32_t k = std::min(p.num_top_logprobs, n);
  if (k <= 0) return;
  std::vector<int32_t>& top = scratch().top;
  select_top(logits, n, k, top);
  out->top_logprobs.reserve(k);
  for (int32_t id : top) out->top_logprobs.emplace_back(id, static_cast<float>(logits[id] - lse));
}

}  // namespace

void sample(const float* logits, const SamplerBatch& batch, SampleResult* out) {
  if (batch.num_seqs <= 0) return;
  TPS_CHECK(logits && batch.params && out, "sample: null logits, params or output");
  TPS_CHECK(batch.vocab_size > 0 && batch.vocab_size <= INT32_MAX, "sample: bad vocab_size ", batch.vocab_size);
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; s++) sample_sequence(logits + s * batch.vocab_size, batch, s, out + s);
  };
  if (batch.num_seqs > 1 && batch.num_seqs * batch.vocab_size >= kParallelMinElements)
    default_pool().parallel_for(batch.num_seqs, run, 1);
  else
    run(0, batch.num_seqs);
}

namespace detail {
std::vector<KeptToken> processed_distribution(const float* logits, int64_t vocab_size, const SamplingParams& params,
                                              const SeqHistory& history) {
  std::vector<KeptToken> dist;
  process_and_draw(logits, vocab_size, params, history, 0, 0, &dist);
  return dist;
}
}  // namespace detail

}  // namespace tpserve::cpu
