// Private to the CUDA sampler: the device records sample.cu uploads and reads back, and the
// launcher of the block-per-sequence kernel (sample_kernel.cu).
#pragma once
#include <cstdint>

namespace tpserve::cuda::sampler_detail {

constexpr int kMaxTopLogprobs = 4096;  // the kernel sorts the top-k logprobs in shared memory

// Error codes of SeqOut::error.
enum : int32_t { kOk = 0, kNanLogits = 1, kNonFiniteMax = 2, kBadHistoryToken = 3 };

struct SeqDesc {
  float temperature, top_p, min_p, repetition_penalty, presence_penalty, frequency_penalty;
  int32_t top_k;
  int32_t num_top_logprobs;  // -1: none
  int32_t n;                 // ids [0, n) take part (vocab_limit applied)
  int32_t hist_begin, hist_end;
  int32_t pad;
  uint64_t seed, counter;
};

struct SeqOut {
  int32_t token;
  int32_t error;
  int32_t error_arg;  // the bad history token
  float logprob;      // raw log-softmax at token (when num_top_logprobs >= 0)
};

struct Args {
  float* logits;  // [num_seqs, vocab_size]: penalised in place while a block runs, restored before it ends
  int64_t vocab_size;
  int num_seqs;
  const SeqDesc* seqs;         // [num_seqs]
  const int32_t* hist_tokens;  // [num_history]
  const int32_t* hist_counts;  // [num_history] or null
  const uint8_t* hist_prompt;  // [num_history] or null
  float* hist_orig;            // [num_history] raw logits of the history tokens (restore)
  SeqOut* outs;                // [num_seqs]
  int32_t* top_ids;            // [num_seqs, max_top]
  float* top_logprobs;         // [num_seqs, max_top]
  int max_top;
};

void launch_sample_kernel(const Args& args);

}  // namespace tpserve::cuda::sampler_detail
