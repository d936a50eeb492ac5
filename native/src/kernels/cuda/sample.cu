// CUDA sampler, host side: validates the batch as the CPU sampler does, packs the per-sequence
// parameters and penalty history into one pinned buffer, uploads it, runs the block-per-sequence
// kernel (sample_kernel.cu) and copies back the tokens, logprobs and errors (which become
// tpserve::Error here, with the CPU's messages). Tests: tests/cuda_ops_test.cpp.
#include <cmath>
#include <cstring>

#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/sample.cuh"
#include "kernels/cuda/sample_internal.cuh"
#include "kernels/cuda/scratch.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

using sampler_detail::SeqDesc;
using sampler_detail::SeqOut;

size_t align16(size_t x) { return (x + 15) & ~size_t(15); }

// Byte offsets of the sections of the device buffer (the upload is [0, orig), the download [outs, end)).
struct Layout {
  size_t seqs, tokens, counts, prompt, orig, outs, top_ids, top_lp, end;
  Layout(int64_t num_seqs, int64_t num_history, int64_t max_top) {
    seqs = 0;
    tokens = align16(seqs + sizeof(SeqDesc) * num_seqs);
    counts = align16(tokens + 4 * num_history);
    prompt = align16(counts + 4 * num_history);
    orig = align16(prompt + num_history);
    outs = align16(orig + 4 * num_history);
    top_ids = align16(outs + sizeof(SeqOut) * num_seqs);
    top_lp = align16(top_ids + 4 * num_seqs * max_top);
    end = align16(top_lp + 4 * num_seqs * max_top);
  }
};

}  // namespace

void sample(const float* logits, const SamplerBatch& batch, SampleResult* out) {
  if (batch.num_seqs <= 0) return;
  TPS_CHECK(logits && batch.params && out, "sample: null logits, params or output");
  TPS_CHECK(batch.vocab_size > 0 && batch.vocab_size <= INT32_MAX, "sample: bad vocab_size ", batch.vocab_size);
  TPS_CHECK(batch.num_seqs <= INT32_MAX, "sample: too many sequences ", batch.num_seqs);
  const int64_t num_seqs = batch.num_seqs, V = batch.vocab_size;
  const int64_t num_history = batch.history_start ? batch.history_start[num_seqs] : 0;
  TPS_CHECK(num_history >= 0, "sample: bad history_start");
  TPS_CHECK(num_history == 0 || batch.history_tokens, "sample: history_tokens missing");

  int64_t max_top = 0;
  for (int64_t s = 0; s < num_seqs; s++) {
    const SamplingParams& p = batch.params[s];
    TPS_CHECK(p.repetition_penalty > 0.0f && std::isfinite(p.repetition_penalty), "sample: sequence ", s,
              " has repetition_penalty ", p.repetition_penalty, " (must be > 0)");
    TPS_CHECK(!std::isnan(p.temperature) && p.temperature >= 0.0f, "sample: sequence ", s, " has temperature ",
              p.temperature);
    TPS_CHECK(p.num_top_logprobs <= sampler_detail::kMaxTopLogprobs, "sample: sequence ", s, " asks for ",
              p.num_top_logprobs, " top logprobs; the CUDA sampler returns at most ",
              sampler_detail::kMaxTopLogprobs);
    if (batch.history_start) {
      const int32_t begin = batch.history_start[s], end = batch.history_start[s + 1];
      TPS_CHECK(0 <= begin && begin <= end && end <= num_history, "sample: bad history_start for sequence ", s);
    }
    const int64_t n = p.vocab_limit > 0 ? std::min<int64_t>(p.vocab_limit, V) : V;
    max_top = std::max<int64_t>(max_top, std::min<int64_t>(p.num_top_logprobs, n));
  }

  const Layout L(num_seqs, num_history, max_top);
  auto* dev = static_cast<unsigned char*>(scratch_device(ScratchSlot::Sampler, L.end));
  TPS_CHECK(dev, "sample: cannot grow the sampler's buffer while a CUDA graph is being captured");
  auto* host = static_cast<unsigned char*>(scratch_host(ScratchSlot::Sampler, L.end));

  auto* seqs = reinterpret_cast<SeqDesc*>(host + L.seqs);
  for (int64_t s = 0; s < num_seqs; s++) {
    const SamplingParams& p = batch.params[s];
    SeqDesc d{};
    d.temperature = p.temperature;
    d.top_p = p.top_p;
    d.min_p = p.min_p;
    d.repetition_penalty = p.repetition_penalty;
    d.presence_penalty = p.presence_penalty;
    d.frequency_penalty = p.frequency_penalty;
    d.top_k = p.top_k;
    d.num_top_logprobs = p.num_top_logprobs;
    d.n = static_cast<int32_t>(p.vocab_limit > 0 ? std::min<int64_t>(p.vocab_limit, V) : V);
    d.hist_begin = batch.history_start ? batch.history_start[s] : 0;
    d.hist_end = batch.history_start ? batch.history_start[s + 1] : 0;
    d.seed = p.seed;
    d.counter = batch.rng_counters ? batch.rng_counters[s] : 0;
    seqs[s] = d;
  }
  if (num_history > 0) {
    std::memcpy(host + L.tokens, batch.history_tokens, 4 * num_history);
    if (batch.history_output_counts) std::memcpy(host + L.counts, batch.history_output_counts, 4 * num_history);
    if (batch.history_in_prompt) std::memcpy(host + L.prompt, batch.history_in_prompt, num_history);
  }
  cudaStream_t stream = current_stream();
  TPS_CUDA_CHECK(cudaMemcpyAsync(dev, host, L.orig, cudaMemcpyHostToDevice, stream));

  sampler_detail::Args a{};
  a.logits = const_cast<float*>(logits);  // penalised in place and restored by the kernel
  a.vocab_size = V;
  a.num_seqs = static_cast<int>(num_seqs);
  a.seqs = reinterpret_cast<const SeqDesc*>(dev + L.seqs);
  a.hist_tokens = reinterpret_cast<const int32_t*>(dev + L.tokens);
  a.hist_counts = batch.history_output_counts ? reinterpret_cast<const int32_t*>(dev + L.counts) : nullptr;
  a.hist_prompt = batch.history_in_prompt ? dev + L.prompt : nullptr;
  a.hist_orig = reinterpret_cast<float*>(dev + L.orig);
  a.outs = reinterpret_cast<SeqOut*>(dev + L.outs);
  a.top_ids = reinterpret_cast<int32_t*>(dev + L.top_ids);
  a.top_logprobs = reinterpret_cast<float*>(dev + L.top_lp);
  a.max_top = static_cast<int>(max_top);
  sampler_detail::launch_sample_kernel(a);

  TPS_CUDA_CHECK(cudaMemcpyAsync(host + L.outs, dev + L.outs, L.end - L.outs, cudaMemcpyDeviceToHost, stream));
  TPS_CUDA_CHECK(cudaStreamSynchronize(stream));

  const auto* outs = reinterpret_cast<const SeqOut*>(host + L.outs);
  const auto* top_ids = reinterpret_cast<const int32_t*>(host + L.top_ids);
  const auto* top_lp = reinterpret_cast<const float*>(host + L.top_lp);
  for (int64_t s = 0; s < num_seqs; s++) {
    const SeqOut& o = outs[s];
    switch (o.error) {
      case sampler_detail::kNanLogits: TPS_THROW("sample: sequence ", s, " has NaN logits");
      case sampler_detail::kNonFiniteMax: TPS_THROW("sample: sequence ", s, " has a non-finite max logit");
      case sampler_detail::kBadHistoryToken: TPS_THROW("sample: history token ", o.error_arg, " outside vocab ", V);
      default: break;
    }
    const SamplingParams& p = batch.params[s];
    SampleResult& r = out[s];
    r.token = o.token;
    r.logprob = p.num_top_logprobs >= 0 ? o.logprob : 0.0f;
    r.top_logprobs.clear();
    const int64_t n = p.vocab_limit > 0 ? std::min<int64_t>(p.vocab_limit, V) : V;
    const int64_t k = std::min<int64_t>(p.num_top_logprobs, n);
    for (int64_t j = 0; j < k; j++)
      r.top_logprobs.emplace_back(top_ids[s * max_top + j], top_lp[s * max_top + j]);
  }
}

}  // namespace tpserve::cuda
