// Decoder: the forward pass of a Llama-family decoder (Seed-OSS, Llama, Qwen2) over one
// ForwardBatch, on any Backend, with tensor-parallel collectives through a Communicator.
// It reads like single-device code: the parallel layout lives in the weights' shapes and in the
// two all-reduces per layer (after o_proj and down_proj) plus the logits all-gather.
#pragma once
#include <chrono>

#include "model/forward_batch.h"
#include "model/kv_cache.h"
#include "tpserve/backend.h"
#include "tpserve/communicator.h"
#include "tpserve/model_weights.h"

namespace tpserve {

struct ForwardTimings {
  double forward_us = 0;
  double collective_us = 0;
};

class Decoder {
 public:
  // Takes weights already on the backend's device (see upload_weights).
  Decoder(ModelWeights weights, Backend& backend, Communicator& comm, KvCache& kv_cache);

  // Runs the batch; returns full-vocabulary logits [batch.logits_rows.size(), vocab_size] on the
  // device (valid until the next call).
  const float* forward(const ForwardBatch& batch, ForwardTimings* timings);

  const ModelConfig& config() const { return weights_.config; }
  const ShardGeometry& shard() const { return weights_.shard; }

 private:
  struct Workspace;
  void ensure_workspace(int64_t num_tokens, int64_t num_logits);
  void upload_metadata(const ForwardBatch& batch);
  void layer_forward(int64_t layer, const ForwardBatch& batch, int64_t num_tokens);
  void all_reduce(float* data, int64_t count);
  void compute_logits(int64_t num_logits);

  ModelWeights weights_;
  Backend& backend_;
  Communicator& comm_;
  KvCache& kv_;
  std::vector<double> inv_freq_;
  int64_t capacity_tokens_ = 0;
  int64_t capacity_logits_ = 0;
  // Device buffers, grown on demand.
  Tensor x_, h_, q_, k_, v_, attn_, o_, gate_, up_, cos_, sin_;
  Tensor ids_, slots_, query_start_, context_lens_, block_tables_, logits_rows_;
  Tensor last_hidden_, local_logits_, padded_logits_, gathered_logits_, logits_;
  AttentionBatch attention_batch_;
  double collective_us_ = 0;
};

// Moves every weight to the backend's device, converting to `dtype` (nullptr keeps each
// tensor's own dtype; norms and biases always become f32).
ModelWeights upload_weights(const ModelWeights& host, Backend& backend, const DType* dtype);

}  // namespace tpserve
