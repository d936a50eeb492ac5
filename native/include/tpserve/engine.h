// Engine: one rank's model shard, KV cache, communicator and per-sequence state; step() runs one
// scheduler iteration (mixed prefill chunks and decode tokens) and, on rank 0, samples.
// The coordinator owns scheduling and KV block ids; the engine only validates and executes.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tpserve/model_config.h"
#include "tpserve/sampling.h"

namespace tpserve {

struct EngineOptions {
  std::string model_dir;
  std::string device = "cpu";     // "cpu" or "cuda"
  int device_index = 0;
  std::string weight_dtype = "auto";  // "auto" keeps the checkpoint's dtype
  std::string kv_dtype = "auto";      // the weights' bf16/f16 (else f32) on cpu, bf16 on cuda
  // Quantize-at-load of the linear layers: "none" (the checkpoint's own weights), "int8", "int4", "fp8".
  std::string quantization = "none";
  bool quantize_lm_head = false;      // the lm_head too (with a quantization)
  int64_t kv_block_size = 16;
  int64_t num_kv_blocks = 0;          // 0: derive from kv_cache_bytes
  int64_t kv_cache_bytes = 0;         // 0: a default budget (cpu: 512 MiB capped by free memory)
  int num_threads = 0;                // cpu threads, 0 = all cores
  // Every token's logits are the same bits whatever else shares its step (cpu only): a request
  // resumed by recompute, or run beside others, gives exactly the text it gives alone.
  bool batch_invariant = false;
  int tp_rank = 0;
  int tp_size = 1;
  std::string comm_id;                // from create_comm_id on rank 0 when tp_size > 1
};

struct NewSequence {
  uint64_t seq_id = 0;
  SamplingParams params;
  bool has_seed = false;
  int64_t num_prompt_tokens = 0;
  // Optional: the tokens so far (the prompt, then the outputs of a recompute), so penalties also
  // see tokens the engine never computes (prefix-cache hits). Positions >= num_prompt_tokens
  // count as generated; num_prompt_tokens 0 with them given: all are prompt.
  std::vector<int32_t> prompt_tokens;
};

enum class LogitsMode : int32_t { None = 0, Last = 1, All = 2 };

struct ScheduledSequence {
  uint64_t seq_id = 0;
  std::vector<int32_t> tokens;         // prefill chunk or one decode token (kPlaceholderToken: the last sampled one)
  int64_t start_pos = 0;               // position of tokens[0]
  std::vector<int32_t> new_block_ids;  // appended to the block table before this step
  bool sample = false;
  LogitsMode logits = LogitsMode::None;
  // Structured outputs: ids allowed for this sample, a bitmask [ceil(vocab / 32)]; empty: all.
  std::vector<uint32_t> token_bitmask;
};

struct StepInput {
  uint64_t step_id = 0;
  std::vector<NewSequence> new_sequences;
  std::vector<ScheduledSequence> scheduled;
  std::vector<uint64_t> finished;
  // Rank 0 broadcasts this step's sampled ids to every rank, so a step sent before this one's
  // reply may carry placeholders (kPlaceholderToken, -1) for them.
  bool share_samples = false;
};

struct SampledToken {
  uint64_t seq_id = 0;
  SampleResult result;
};

struct SequenceLogits {
  uint64_t seq_id = 0;
  int64_t num_rows = 0;
  std::vector<float> data;  // [num_rows, vocab_size]
};

struct StepOutput {
  uint64_t step_id = 0;
  std::vector<SampledToken> samples;  // rank 0 only
  std::vector<SequenceLogits> logits; // rank 0 only
  double forward_us = 0, collective_us = 0, sampling_us = 0;
};

struct EngineInfo {
  ModelConfig config;
  int64_t num_kv_blocks = 0;
  int64_t kv_block_size = 0;
  std::string device;  // the backend's description, e.g. "cpu (avx512, 2 threads)"
  int tp_rank = 0, tp_size = 1;
  int64_t weight_bytes = 0;  // this rank's weight bytes
  // Weight bytes one decode token streams on this rank: every weight but the embedding table, of
  // which one row (all of it when the lm_head is the tied table). The bandwidth floor's numerator.
  int64_t decode_bytes_per_token = 0;
};

using ProgressFn = std::function<void(const std::string& stage, int64_t done, int64_t total)>;

class Engine {
 public:
  virtual ~Engine() = default;
  // Loads the model shard and allocates the KV cache; errors are tpserve::Error with file:line.
  static std::unique_ptr<Engine> load(const EngineOptions& options, const ProgressFn& progress = nullptr);
  virtual StepOutput step(const StepInput& input) = 0;
  virtual const EngineInfo& info() const = 0;
  virtual size_t num_sequences() const = 0;
};

// A unique id for the communicator of the given device ("cuda": NCCL; "cpu": backend "shm"
// (default, one host) or "gloo" (several hosts: starts the rendezvous store on `host`, the
// address the other ranks reach this rank at)). The id tells every rank which one to join.
std::string create_comm_id(const std::string& device, const std::string& backend = "", const std::string& host = "");

}  // namespace tpserve
