// ModelWeights loader: reads config.json, checks the tensor-parallel split, then takes this
// rank's slice of every weight from the mmapped checkpoint (zero-copy row views for
// column-parallel and vocab-parallel tensors, copied column slices for row-parallel ones).
// Quantize-at-load happens here, on the rows a rank keeps (column-parallel) or on the whole tensor
// before its columns are cut (row-parallel: each row's scale is that of the full row).
// Tested by tests/model_weights_test.cpp and tests/quantized_weights_test.cpp.
#include "tpserve/model_weights.h"

#include <algorithm>

#include "model/quantized_checkpoint.h"

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
  ShardLoader(const Checkpoint& ckpt, TensorParallel tp, const QuantizeOptions& quantize,
              const CheckpointQuantization& prequantized)
      : ckpt_(ckpt), tp_(tp), quantize_(quantize), prequantized_(prequantized) {}

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
  // Column-parallel linear layer `name` ([n, k]): rows [begin, begin + count).
  LinearWeight linear_rows(const std::string& name, int64_t n, int64_t k, int64_t begin, int64_t count,
                           bool quantized = true) {
    if (is_prequantized(name)) {
      if (!check_prequantized(name, n, k, 0)) return {};
      return done(slice_weight_rows(load_prequantized(name, n, k), begin, count));
    }
    if (!check_linear(name, n, k, 0, quantized)) return {};
    Tensor rows = ckpt_.view_rows(name, begin, begin + count);
    return done(quantized ? quantize(rows) : LinearWeight(rows));
  }
  // Row-parallel linear layer `name` ([n, k]): columns [rank * local, (rank + 1) * local).
  LinearWeight linear_columns(const std::string& name, int64_t n, int64_t k, int64_t local) {
    if (is_prequantized(name)) {
      if (!check_prequantized(name, n, k, local)) return {};
      return done(slice_weight_columns(load_prequantized(name, n, k), tp_.rank * local, local));
    }
    if (!check_linear(name, n, k, local, true)) return {};
    if (quantize_.format == WeightFormat::Float) return done(columns_of(name, local));
    return done(slice_weight_columns(quantize(ckpt_.view(name)), tp_.rank * local, local));
  }

 private:
  // GPTQ / AWQ / FP8 checkpoints quantize the decoder layers' linears (not embeddings or lm_head).
  bool is_prequantized(const std::string& name) const {
    return prequantized_.is_quantized() && name.rfind("model.layers.", 0) == 0;
  }
  static std::string prefix_of(const std::string& name) { return name.substr(0, name.size() - std::string(".weight").size()); }
  LinearWeight load_prequantized(const std::string& name, int64_t n, int64_t k) const {
    return load_quantized_linear(ckpt_, prequantized_, prefix_of(name), n, k);
  }
  bool check_prequantized(const std::string& name, int64_t n, int64_t k, int64_t local) {
    if (cut_) return true;
    expect_quantized_linear(ckpt_, prequantized_, prefix_of(name), n, k);
    const int64_t g = prequantized_.group_size == -1 ? k : prequantized_.group_size;
    if (local > 0 && local < k && prequantized_.method != CheckpointQuantization::Method::Fp8) {
      TPS_CHECK(!prequantized_.desc_act, prequantized_.name, " checkpoint with desc_act: ", name,
                " cannot be split by columns for tp=", tp_.size, " (act-order groups span the ranks)");
      TPS_CHECK(local % g == 0, "tp=", tp_.size, " splits ", name, " into ", local, " columns per rank, which cuts a ",
                prequantized_.name, " group of ", g);
    }
    ++done_;
    return false;
  }
  Tensor columns_of(const std::string& name, int64_t local) {
    if (tp_.size == 1) return ckpt_.view(name);
    return ckpt_.copy_columns(name, tp_.rank * local, (tp_.rank + 1) * local);
  }
  LinearWeight quantize(const Tensor& t) const {
    if (quantize_.format == WeightFormat::Float) return t;
    return quantize_weight(t, quantize_.format, quantize_.group_size);
  }
  // Checking pass of a linear layer: its shape, and that int4 groups fit k and the TP split (local > 0).
  bool check_linear(const std::string& name, int64_t n, int64_t k, int64_t local, bool quantized) {
    if (!cut_ && quantized && quantize_.format == WeightFormat::Int4) {
      const int64_t g = quantize_.group_size;
      TPS_CHECK(k % g == 0, "--quantization int4: ", name, " has in_features ", k, ", not a multiple of the group size ", g);
      TPS_CHECK(local == 0 || local % g == 0, "--quantization int4: tp=", tp_.size, " splits ", name, " into ", local,
                " columns per rank, which cuts a group of ", g, " (the local in_features must be a multiple of ", g, ")");
    }
    return check(name, {n, k});
  }
  // Validates in the checking pass; true when this pass should cut.
  bool check(const std::string& name, const std::vector<int64_t>& shape) {
    if (cut_) return true;
    ckpt_.expect_shape(name, shape);
    ++done_;
    return false;
  }
  template <typename T>
  T done(T t) {
    ++done_;
    if (progress_ != nullptr) progress_(user_, done_, total_);
    return t;
  }

  const Checkpoint& ckpt_;
  TensorParallel tp_;
  QuantizeOptions quantize_;
  CheckpointQuantization prequantized_;
  bool cut_ = false;
  int64_t total_ = 0;
  int64_t done_ = 0;
  LoadProgress progress_ = nullptr;
  void* user_ = nullptr;
};

// Takes every weight of the model through the loader, in checkpoint order.
void walk_weights(ShardLoader& load, ModelWeights& w, bool quantize_lm_head) {
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
    const int64_t rank = w.tp.rank;
    l.q_proj = load.linear_rows(p + "self_attn.q_proj.weight", q_rows, H, rank * g.num_q_heads * D, g.num_q_heads * D);
    l.k_proj = load.linear_rows(p + "self_attn.k_proj.weight", kv_rows, H, rank * g.num_kv_heads * D, g.num_kv_heads * D);
    l.v_proj = load.linear_rows(p + "self_attn.v_proj.weight", kv_rows, H, rank * g.num_kv_heads * D, g.num_kv_heads * D);
    if (c.attention_bias) {
      l.q_bias = load.rows(p + "self_attn.q_proj.bias", {q_rows}, g.num_q_heads * D);
      l.k_bias = load.rows(p + "self_attn.k_proj.bias", {kv_rows}, g.num_kv_heads * D);
      l.v_bias = load.rows(p + "self_attn.v_proj.bias", {kv_rows}, g.num_kv_heads * D);
    }
    l.o_proj = load.linear_columns(p + "self_attn.o_proj.weight", H, q_rows, g.num_q_heads * D);
    if (c.attention_out_bias) l.o_bias = load.whole(p + "self_attn.o_proj.bias", {H});  // added once, after the reduce
    l.post_attention_norm = load.whole(p + "post_attention_layernorm.weight", {H});
    // MLP: gate/up column-parallel, down row-parallel
    l.gate_proj = load.linear_rows(p + "mlp.gate_proj.weight", I, H, rank * g.intermediate, g.intermediate);
    l.up_proj = load.linear_rows(p + "mlp.up_proj.weight", I, H, rank * g.intermediate, g.intermediate);
    if (c.mlp_bias) {
      l.gate_bias = load.rows(p + "mlp.gate_proj.bias", {I}, g.intermediate);
      l.up_bias = load.rows(p + "mlp.up_proj.bias", {I}, g.intermediate);
    }
    l.down_proj = load.linear_columns(p + "mlp.down_proj.weight", H, I, g.intermediate);
    if (c.mlp_bias) l.down_bias = load.whole(p + "mlp.down_proj.bias", {H});
  }
  w.final_norm = load.whole("model.norm.weight", {H});
  // tied: lm_head shares embed_tokens' slice (any lm_head.weight in the file is ignored)
  const std::string head = c.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
  if (quantize_lm_head) w.lm_head = load.linear_rows(head, V, H, g.vocab_begin, g.vocab_rows);
  else if (c.tie_word_embeddings) w.lm_head = w.embed_tokens;
  else w.lm_head = load.linear_rows(head, V, H, g.vocab_begin, g.vocab_rows, false);
}

}  // namespace

int64_t model_weight_bytes(const ModelWeights& w) {
  int64_t total = w.embed_tokens.nbytes() + w.final_norm.nbytes();
  if (w.lm_head.weight.data() != w.embed_tokens.data()) total += w.lm_head.nbytes();
  for (const LayerWeights& l : w.layers) {
    for (const Tensor* t : {&l.input_norm, &l.post_attention_norm, &l.q_bias, &l.k_bias, &l.v_bias, &l.o_bias,
                            &l.gate_bias, &l.up_bias, &l.down_bias, &l.qkv_bias, &l.gate_up_bias})
      if (t->defined()) total += t->nbytes();
    for (const LinearWeight* lw : {&l.q_proj, &l.k_proj, &l.v_proj, &l.o_proj, &l.gate_proj, &l.up_proj, &l.down_proj,
                                   &l.qkv_proj, &l.gate_up_proj})
      total += lw->nbytes();  // empty parts (fused away) count 0
  }
  return total;
}

int64_t model_decode_bytes_per_token(const ModelWeights& w) {
  const int64_t table = w.embed_tokens.nbytes();
  if (w.lm_head.weight.data() == w.embed_tokens.data()) return model_weight_bytes(w);  // the lm_head reads all of it
  const int64_t rows = w.embed_tokens.rank() > 0 ? w.embed_tokens.dim(0) : 1;
  return model_weight_bytes(w) - table + table / std::max<int64_t>(rows, 1);
}

ModelWeights load_model_weights(const std::string& model_dir, TensorParallel tp, LoadProgress progress,
                                void* progress_user, const QuantizeOptions& quantize) {
  ModelWeights w;
  w.config = load_model_config(model_dir);
  w.tp = tp;
  w.shard = shard_geometry(w.config, tp);  // before any safetensors file is opened

  const CheckpointQuantization prequantized = read_checkpoint_quantization(model_dir);
  TPS_CHECK(!prequantized.is_quantized() || quantize.format == WeightFormat::Float, "the checkpoint is already quantized (",
            "quantization_config.quant_method = ", prequantized.name, "): leave --quantization out");
  const Checkpoint ckpt(model_dir);
  ShardLoader load(ckpt, tp, quantize, prequantized);
  walk_weights(load, w, quantize.quantize_lm_head);  // checking pass: every shape against the config, nothing cut yet
  load.start_cutting(progress, progress_user);
  walk_weights(load, w, quantize.quantize_lm_head);
  return w;
}

}  // namespace tpserve
