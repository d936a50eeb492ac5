// ModelWeights loader: reads config.json, checks the tensor-parallel split, then takes this
// rank's slice of every weight from the mmapped checkpoint (zero-copy row views for
// column-parallel and vocab-parallel tensors, copied column slices for row-parallel ones).
// Tested by tests/model_weights_test.cpp.
#include "tpserve/model_weights.h"

#include <algorithm>

namespace tpserve {

ShardGeometry shard_geometry(const ModelConfig& config, TensorParallel tp) {
  TPS_CHECK(tp.size >= 1, "tensor-parallel size must be at least 1, got ", tp.size);
  TPS_CHECK(tp.rank >= 0 && tp.rank < tp.size, "tensor-parallel rank ", tp.rank, " out of range for tp=", tp.size);
  TPS_CHECK(config.num_attention_heads % tp.size == 0, "tp=", tp.size, " does not divide num_attention_heads=",
            config.num_attention_heads);
  TPS_CHECK(config.num_key_value_heads % tp.size == 0, "tp=", tp.size, " does not divide num_key_value_heads=",
            config.num_key_value_heads);
  TPS_CHECK(config.intermediate_size % tp.size == 0, "tp=", tp.size, " does not divide intermediate_size=",
            config.intermediate_size);
  ShardGeometry g;
  g.num_q_heads = config.num_attention_heads / tp.size;
  g.num_kv_heads = config.num_key_value_heads / tp.size;
  g.intermediate = config.intermediate_size / tp.size;
  // vocab-parallel: ceil(V / tp) rows per rank, the last rank(s) may hold fewer
  const int64_t rows_per_rank = (config.vocab_size + tp.size - 1) / tp.size;
  g.vocab_begin = std::min<int64_t>(config.vocab_size, rows_per_rank * tp.rank);
  g.vocab_rows = std::min<int64_t>(rows_per_rank, config.vocab_size - g.vocab_begin);
  return g;
}

namespace {

// Cuts this rank's slices. In a checking pass (cut = false) it only validates shapes and counts
// tensors, so that a bad checkpoint fails before anything is copied and progress knows its total.
class ShardLoader {
 public:
  ShardLoader(const Checkpoint& ckpt, TensorParallel tp) : ckpt_(ckpt), tp_(tp) {}

  void start_cutting(LoadProgress progress, void* user) {
    cut_ = true;
    total_ = done_;
    done_ = 0;
    progress_ = progress;
    user_ = user;
  }

  // Whole tensor (norms, row-parallel biases).
  Tensor whole(const std::string& name, const std::vector<int64_t>& shape) {
    if (!check(name, shape)) return {};
    return done(ckpt_.view(name));
  }
  // Rows [rank * local, (rank + 1) * local) of dimension 0: zero-copy.
  Tensor rows(const std::string& name, const std::vector<int64_t>& shape, int64_t local) {
    return row_range(name, shape, tp_.rank * local, local);
  }
  Tensor row_range(const std::string& name, const std::vector<int64_t>& shape, int64_t begin, int64_t count) {
    if (!check(name, shape)) return {};
    return done(ckpt_.view_rows(name, begin, begin + count));
  }
  // Columns [rank * local, (rank + 1) * local) of a 2-D tensor: copied unless tp == 1.
  Tensor columns(const std::string& name, const std::vector<int64_t>& shape, int64_t local) {
    if (!check(name, shape)) return {};
    if (tp_.size == 1) return done(ckpt_.view(name));
    return done(ckpt_.copy_columns(name, tp_.rank * local, (tp_.rank + 1) * local));
  }

 private:
  // Validates in the checking pass; true when this pass should cut.
  bool check(const std::string& name, const std::vector<int64_t>& shape) {
    if (cut_) return true;
    ckpt_.expect_shape(name, shape);
    ++done_;
    return false;
  }
  Tensor done(Tensor t) {
    ++done_;
    if (progress_ != nullptr) progress_(user_, done_, total_);
    return t;
  }

  const Checkpoint& ckpt_;
  TensorParallel tp_;
  bool cut_ = false;
  int64_t total_ = 0;
  int64_t done_ = 0;
  LoadProgress progress_ = nullptr;
  void* user_ = nullptr;
};

// Takes every weight of the model through the loader, in checkpoint order.
void walk_weights(ShardLoader& load, ModelWeights& w) {
  const ModelConfig& c = w.config;
  const ShardGeometry& g = w.shard;
  const int64_t H = c.hidden_size, D = c.head_dim, V = c.vocab_size, I = c.intermediate_size;
  const int64_t q_rows = c.num_attention_heads * D, kv_rows = c.num_key_value_heads * D;

  w.embed_tokens = load.row_range("model.embed_tokens.weight", {V, H}, g.vocab_begin, g.vocab_rows);
  w.layers.assign(static_cast<size_t>(c.num_hidden_layers), LayerWeights{});
  for (int64_t i = 0; i < c.num_hidden_layers; i++) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    l.input_norm = load.whole(p + "input_layernorm.weight", {H});
    // attention: q/k/v column-parallel by heads, o row-parallel
    l.q_proj = load.rows(p + "self_attn.q_proj.weight", {q_rows, H}, g.num_q_heads * D);
    l.k_proj = load.rows(p + "self_attn.k_proj.weight", {kv_rows, H}, g.num_kv_heads * D);
    l.v_proj = load.rows(p + "self_attn.v_proj.weight", {kv_rows, H}, g.num_kv_heads * D);
    if (c.attention_bias) {
      l.q_bias = load.rows(p + "self_attn.q_proj.bias", {q_rows}, g.num_q_heads * D);
      l.k_bias = load.rows(p + "self_attn.k_proj.bias", {kv_rows}, g.num_kv_heads * D);
      l.v_bias = load.rows(p + "self_attn.v_proj.bias", {kv_rows}, g.num_kv_heads * D);
    }
    l.o_proj = load.columns(p + "self_attn.o_proj.weight", {H, q_rows}, g.num_q_heads * D);
    if (c.attention_out_bias) l.o_bias = load.whole(p + "self_attn.o_proj.bias", {H});  // added once, after the reduce
    l.post_attention_norm = load.whole(p + "post_attention_layernorm.weight", {H});
    // MLP: gate/up column-parallel, down row-parallel
    l.gate_proj = load.rows(p + "mlp.gate_proj.weight", {I, H}, g.intermediate);
    l.up_proj = load.rows(p + "mlp.up_proj.weight", {I, H}, g.intermediate);
    if (c.mlp_bias) {
      l.gate_bias = load.rows(p + "mlp.gate_proj.bias", {I}, g.intermediate);
      l.up_bias = load.rows(p + "mlp.up_proj.bias", {I}, g.intermediate);
    }
    l.down_proj = load.columns(p + "mlp.down_proj.weight", {H, I}, g.intermediate);
    if (c.mlp_bias) l.down_bias = load.whole(p + "mlp.down_proj.bias", {H});
  }
  w.final_norm = load.whole("model.norm.weight", {H});
  // tied: lm_head shares embed_tokens' slice (any lm_head.weight in the file is ignored)
  w.lm_head = c.tie_word_embeddings ? w.embed_tokens
                                    : load.row_range("lm_head.weight", {V, H}, g.vocab_begin, g.vocab_rows);
}

}  // namespace

ModelWeights load_model_weights(const std::string& model_dir, TensorParallel tp, LoadProgress progress,
                                void* progress_user) {
  ModelWeights w;
  w.config = load_model_config(model_dir);
  w.tp = tp;
  w.shard = shard_geometry(w.config, tp);  // before any safetensors file is opened

  const Checkpoint ckpt(model_dir);
  ShardLoader load(ckpt, tp);
  walk_weights(load, w);  // checking pass: every shape against the config, nothing cut yet
  load.start_cutting(progress, progress_user);
  walk_weights(load, w);
  return w;
}

}  // namespace tpserve
