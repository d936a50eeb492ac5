// ModelWeights: this rank's shard of every weight, read from a Checkpoint with the
// tensor-parallel layout of docs/architecture.md:
//   column-parallel (rows split): q, k, v, gate, up and their biases;
//   row-parallel (columns split): o_proj, down_proj (bias kept whole, added once after the all-reduce);
//   vocab-parallel (rows split): embed_tokens and lm_head (lm_head = embed_tokens when tied).
// Linear layers are LinearWeights: float, or quantized at load (QuantizeOptions) with each row's and
// group's scales cut with it.
#pragma once
#include <string>
#include <vector>

#include "tpserve/linear_weight.h"
#include "tpserve/model_config.h"
#include "tpserve/safetensors.h"

namespace tpserve {

struct LayerWeights {
  Tensor input_norm;     // [hidden]
  LinearWeight q_proj, k_proj, v_proj;   // [local_heads * head_dim, hidden]
  Tensor q_bias, k_bias, v_bias;   // [local_heads * head_dim] or undefined
  LinearWeight o_proj;   // [hidden, local_q_heads * head_dim]
  Tensor o_bias;         // [hidden] or undefined (full, not split)
  Tensor post_attention_norm;      // [hidden]
  LinearWeight gate_proj, up_proj;       // [local_intermediate, hidden]
  Tensor gate_bias, up_bias;       // [local_intermediate] or undefined
  LinearWeight down_proj;  // [hidden, local_intermediate]
  Tensor down_bias;      // [hidden] or undefined (full)
  // Fused at upload (model/fused_projections.h): q|k|v and gate|up stacked by rows, biases in f32
  // (zeros for a part without one). Where defined, the separate projections above are empty.
  LinearWeight qkv_proj;      // [local (q + 2 kv heads) * head_dim, hidden]
  Tensor qkv_bias;            // [local (q + 2 kv heads) * head_dim] or undefined
  LinearWeight gate_up_proj;  // [2 * local_intermediate, hidden]
  Tensor gate_up_bias;        // [2 * local_intermediate] or undefined
};

struct TensorParallel {
  int rank = 0;
  int size = 1;
};

// The part of the model one rank holds, with the slice bounds it was cut at.
struct ShardGeometry {
  int64_t num_q_heads = 0;        // local
  int64_t num_kv_heads = 0;       // local
  int64_t intermediate = 0;       // local
  int64_t vocab_begin = 0;        // first vocab row held
  int64_t vocab_rows = 0;         // rows held (the last rank may hold fewer)
};

// Throws a clear error when tp does not divide heads, kv heads or intermediate size.
ShardGeometry shard_geometry(const ModelConfig& config, TensorParallel tp);

struct ModelWeights {
  ModelConfig config;
  TensorParallel tp;
  ShardGeometry shard;
  Tensor embed_tokens;   // [vocab_rows, hidden]
  Tensor final_norm;     // [hidden]
  LinearWeight lm_head;  // [vocab_rows, hidden] (its weight is embed_tokens when tied and not quantized)
  std::vector<LayerWeights> layers;
};

// Quantize-at-load (`--quantization`): every linear layer of the decoder layers, the lm_head too
// when quantize_lm_head (an lm_head tied to the embeddings then gets its own quantized copy).
struct QuantizeOptions {
  WeightFormat format = WeightFormat::Float;  // Float: keep the checkpoint's weights
  int64_t group_size = 128;                   // Int4
  bool quantize_lm_head = false;
};

// Bytes of every weight the model holds (what the engine reports and decode streams per step).
int64_t model_weight_bytes(const ModelWeights& w);
// The weight bytes one decode token reads (see EngineInfo::decode_bytes_per_token).
int64_t model_decode_bytes_per_token(const ModelWeights& w);

// Reports loading progress: (tensors done, tensors total).
using LoadProgress = void (*)(void* user, int64_t done, int64_t total);

// Loads this rank's shard; validates every tensor's shape against the config and names the
// file and tensor on any mismatch. Views stay zero-copy where the slice is contiguous.
ModelWeights load_model_weights(const std::string& model_dir, TensorParallel tp,
                                LoadProgress progress = nullptr, void* progress_user = nullptr,
                                const QuantizeOptions& quantize = {});

}  // namespace tpserve
