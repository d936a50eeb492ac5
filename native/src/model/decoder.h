// Decoder: the forward pass of a Llama-family decoder (Seed-OSS, Llama, Qwen2) over one
// ForwardBatch, on any Backend, with tensor-parallel collectives through a Communicator.
// It reads like single-device code: the parallel layout lives in the weights' shapes and in the
// two all-reduces per layer (after o_proj and down_proj) plus the logits all-gather.
#pragma once
#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>

#include "model/decode_runner.h"
#include "model/forward_batch.h"
#include "model/kv_cache.h"
#include "model/op_profiler.h"
#include "model/rope_table.h"
#include "tpserve/backend.h"
#include "tpserve/communicator.h"
#include "tpserve/model_weights.h"

namespace tpserve {

struct ForwardTimings {
  double forward_us = 0;
  double collective_us = 0;
};

class Decoder final : public DecodeTarget {
 public:
  // Takes weights already on the backend's device (see upload_weights).
  Decoder(ModelWeights weights, Backend& backend, Communicator& comm, KvCache& kv_cache);

  // Runs the batch; returns full-vocabulary logits [batch.logits_rows.size(), vocab_size] on the
  // device (valid until the next call).
  const float* forward(const ForwardBatch& batch, ForwardTimings* timings);

  const ModelConfig& config() const { return weights_.config; }
  const ShardGeometry& shard() const { return weights_.shard; }

  // ---- DecodeTarget (model/decode_runner.h): the pieces of forward() for DecodeRunners.
  void stage(const ForwardBatch& batch) override;
  void run(int64_t num_tokens, int64_t num_logits) override;
  void reserve(int64_t num_tokens, int64_t num_logits, int64_t num_seqs, int64_t max_blocks_per_seq) override;
  uint64_t buffers_generation() const override { return buffers_generation_ + backend_.scratch_generation(); }
  void set_decode_runner(std::unique_ptr<DecodeRunner> runner) { decode_runner_ = std::move(runner); }
  Backend& backend() const { return backend_; }

 private:
  struct Workspace;
  void ensure_workspace(int64_t num_tokens, int64_t num_logits);
  void upload_metadata(const ForwardBatch& batch);
  void layer_forward(int64_t layer, int64_t num_tokens);
  // Splits fused [t, sum cols] rows into the parts' [t, cols] buffers (*dst; t == 1 repoints *dst
  // into the fused row instead of copying).
  struct ColumnPart {
    int64_t cols;
    float** dst;
  };
  void split_columns(const float* fused, int64_t num_tokens, std::initializer_list<ColumnPart> parts);
  void all_reduce(float* data, int64_t count);
  void compute_logits(int64_t num_logits);

  ModelWeights weights_;
  Backend& backend_;
  Communicator& comm_;
  KvCache& kv_;
  RopeTable rope_;
  int64_t capacity_tokens_ = 0;
  int64_t capacity_logits_ = 0;
  // Device buffers, grown on demand.
  Tensor x_, h_, q_, k_, v_, attn_, o_, gate_, up_, qkv_, gate_up_;
  Tensor ids_, positions_, slots_, query_start_, context_lens_, block_tables_, logits_rows_;
  Tensor last_hidden_, local_logits_, padded_logits_, gathered_logits_, logits_;
  AttentionBatch attention_batch_;
  double collective_us_ = 0;
  OpProfiler profiler_;  // TPSERVE_PROFILE_OPS=N: per-op wall time every N passes (stderr)
  uint64_t buffers_generation_ = 0;
  std::unique_ptr<DecodeRunner> decode_runner_;
};

// Moves every weight to the backend's device, converting to `dtype` (nullptr keeps each
// tensor's own dtype; norms and biases always become f32).
// progress(done, total) is called after each layer (the bytes move here on a GPU backend).
// fuse_projections: q/k/v and gate/up become one weight each where their formats allow
// (model/fused_projections.h); false keeps the 7 separate projections (the reference in tests).
ModelWeights upload_weights(const ModelWeights& host, Backend& backend, const DType* dtype,
                            const std::function<void(int64_t, int64_t)>& progress = nullptr,
                            bool fuse_projections = true);

}  // namespace tpserve
