// ModelWeights tests: tiny random checkpoints written with safetensors_writer.h, loaded at tp=1
// and tp=2 (slices compared with the full tensors), tied embeddings, shards, bias flags, and the
// errors for missing tensors, wrong shapes and a tp that does not divide the heads.
//   ctest --test-dir native/build -R ModelWeights
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "safetensors_writer.h"
#include "tpserve/model_weights.h"

namespace tpserve {
namespace {

using test_util::expect_error;

using test_util::SafetensorsWriter;
using test_util::TempDir;

// A tiny decoder; head_dim differs from hidden / heads, as in Seed-OSS.
struct TinyModel {
  std::string architecture = "SeedOssForCausalLM";
  int64_t vocab = 1001, hidden = 16, intermediate = 24, layers = 2, heads = 4, kv_heads = 2, head_dim = 8;
  bool attention_bias = true, attention_out_bias = false, mlp_bias = false, tie = false;
  int num_shards = 1;
  std::vector<std::string> skip;                       // tensors left out of the checkpoint
  std::map<std::string, std::vector<int64_t>> reshape;  // tensors written with a wrong shape

  nlohmann::json config() const {
    return {{"architectures", {architecture}}, {"vocab_size", vocab}, {"hidden_size", hidden},
            {"intermediate_size", intermediate}, {"num_hidden_layers", layers}, {"num_attention_heads", heads},
            {"num_key_value_heads", kv_heads}, {"head_dim", head_dim}, {"attention_bias", attention_bias},
            {"attention_out_bias", attention_out_bias}, {"mlp_bias", mlp_bias}, {"tie_word_embeddings", tie},
            {"rope_theta", 1e7}, {"eos_token_id", 2}};
  }

  // Every tensor with its HF name and shape, in checkpoint order.
  std::vector<std::pair<std::string, std::vector<int64_t>>> tensors() const {
    std::vector<std::pair<std::string, std::vector<int64_t>>> t;
    const int64_t q = heads * head_dim, kv = kv_heads * head_dim;
    t.push_back({"model.embed_tokens.weight", {vocab, hidden}});
    for (int64_t i = 0; i < layers; i++) {
      const std::string p = "model.layers." + std::to_string(i) + ".";
      t.push_back({p + "input_layernorm.weight", {hidden}});
      t.push_back({p + "self_attn.q_proj.weight", {q, hidden}});
      t.push_back({p + "self_attn.k_proj.weight", {kv, hidden}});
      t.push_back({p + "self_attn.v_proj.weight", {kv, hidden}});
      if (attention_bias) {
        t.push_back({p + "self_attn.q_proj.bias", {q}});
        t.push_back({p + "self_attn.k_proj.bias", {kv}});
        t.push_back({p + "self_attn.v_proj.bias", {kv}});
      }
      t.push_back({p + "self_attn.o_proj.weight", {hidden, q}});
      if (attention_out_bias) t.push_back({p + "self_attn.o_proj.bias", {hidden}});
      t.push_back({p + "post_attention_layernorm.weight", {hidden}});
      for (const char* m : {"gate_proj", "up_proj"}) {
        t.push_back({p + "mlp." + m + ".weight", {intermediate, hidden}});
        if (mlp_bias) t.push_back({p + "mlp." + m + ".bias", {intermediate}});
      }
      t.push_back({p + "mlp.down_proj.weight", {hidden, intermediate}});
      if (mlp_bias) t.push_back({p + "mlp.down_proj.bias", {hidden}});
    }
    t.push_back({"model.norm.weight", {hidden}});
    if (!tie) t.push_back({"lm_head.weight", {vocab, hidden}});
    return t;
  }

  // Element j of tensor number k: distinct per tensor and exact in f32.
  static float value(size_t k, int64_t j) { return static_cast<float>(k * 100000 + j); }

  // Writes config.json and the safetensors (round-robin over num_shards); returns name -> index.
  std::map<std::string, size_t> write(const std::string& dir) const {
    test_util::write_text(dir + "/config.json", config().dump(2));
    std::vector<SafetensorsWriter> shards(static_cast<size_t>(num_shards));
    std::map<std::string, size_t> ids;
    auto all = tensors();
    for (size_t k = 0; k < all.size(); k++) {
      auto [name, shape] = all[k];
      ids[name] = k;
      if (std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
      if (reshape.count(name)) shape = reshape.at(name);
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      std::vector<float> v(static_cast<size_t>(n));
      for (int64_t j = 0; j < n; j++) v[j] = value(k, j);
      shards[k % shards.size()].add_f32(name, shape, v);
    }
    if (num_shards == 1)
      shards[0].write(dir + "/model.safetensors");
    else
      test_util::write_sharded(dir, shards);
    return ids;
  }
};

// t[r][c] == full tensor k at [row0 + r][col0 + c] for a full tensor of `cols` columns.
void expect_block(const Tensor& t, size_t k, int64_t row0, int64_t col0, int64_t cols, const std::string& what) {
  ASSERT_TRUE(t.defined()) << what;
  ASSERT_EQ(t.dtype(), DType::F32) << what;
  const int64_t rows = t.dim(0), width = t.rank() == 2 ? t.dim(1) : 1;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < width; c++)
      ASSERT_EQ(t.ptr<float>()[r * width + c], TinyModel::value(k, (row0 + r) * cols + col0 + c))
          << what << " at [" << r << ", " << c << "]";
}

void count_progress(void* user, int64_t done, int64_t total) {
  auto* calls = static_cast<std::vector<std::pair<int64_t, int64_t>>*>(user);
  calls->push_back({done, total});
}

TEST(ModelWeights, ShardGeometry) {
  ModelConfig c;
  c.num_attention_heads = 80;
  c.num_key_value_heads = 8;
  c.intermediate_size = 27648;
  c.vocab_size = 1001;
  ShardGeometry g0 = shard_geometry(c, {0, 2}), g1 = shard_geometry(c, {1, 2});
  EXPECT_EQ(g0.num_q_heads, 40);
  EXPECT_EQ(g0.num_kv_heads, 4);
  EXPECT_EQ(g0.intermediate, 13824);
  EXPECT_EQ(g0.vocab_begin, 0);
  EXPECT_EQ(g0.vocab_rows, 501);
  EXPECT_EQ(g1.vocab_begin, 501);
  EXPECT_EQ(g1.vocab_rows, 500);
  ShardGeometry g7 = shard_geometry(c, {7, 8});  // ceil(1001 / 8) = 126; 7 * 126 = 882
  EXPECT_EQ(g7.num_q_heads, 10);
  EXPECT_EQ(g7.num_kv_heads, 1);
  EXPECT_EQ(g7.intermediate, 3456);
  EXPECT_EQ(g7.vocab_begin, 882);
  EXPECT_EQ(g7.vocab_rows, 119);
  expect_error([&] { shard_geometry(c, {0, 3}); }, {"tp=3 does not divide num_attention_heads=80"});
  expect_error([&] { shard_geometry(c, {0, 16}); }, {"tp=16 does not divide num_key_value_heads=8"});
  c.intermediate_size = 27649;
  expect_error([&] { shard_geometry(c, {0, 2}); }, {"tp=2 does not divide intermediate_size=27649"});
  expect_error([&] { shard_geometry(c, {2, 2}); }, {"rank 2"});
}

TEST(ModelWeights, LoadsTp1) {
  TempDir dir;
  TinyModel m;
  auto ids = m.write(dir.path());
  std::vector<std::pair<int64_t, int64_t>> calls;
  ModelWeights w = load_model_weights(dir.path(), {0, 1}, count_progress, &calls);
  EXPECT_EQ(w.config.head_dim, 8);
  ASSERT_EQ(w.layers.size(), 2u);
  const auto total = static_cast<int64_t>(m.tensors().size());
  ASSERT_EQ(static_cast<int64_t>(calls.size()), total);
  for (int64_t i = 0; i < total; i++) EXPECT_EQ(calls[i], std::make_pair(i + 1, total));

  expect_block(w.embed_tokens, ids["model.embed_tokens.weight"], 0, 0, 16, "embed");
  expect_block(w.lm_head.weight, ids["lm_head.weight"], 0, 0, 16, "lm_head");
  expect_block(w.final_norm, ids["model.norm.weight"], 0, 0, 1, "norm");
  const LayerWeights& l = w.layers[1];
  EXPECT_EQ(l.q_proj.weight.shape(), (std::vector<int64_t>{32, 16}));
  EXPECT_EQ(l.k_proj.weight.shape(), (std::vector<int64_t>{16, 16}));
  EXPECT_EQ(l.o_proj.weight.shape(), (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(l.down_proj.weight.shape(), (std::vector<int64_t>{16, 24}));
  expect_block(l.o_proj.weight, ids["model.layers.1.self_attn.o_proj.weight"], 0, 0, 32, "o_proj");
  expect_block(l.q_bias, ids["model.layers.1.self_attn.q_proj.bias"], 0, 0, 1, "q_bias");
  EXPECT_FALSE(l.o_bias.defined());
  EXPECT_FALSE(l.gate_bias.defined());
  EXPECT_FALSE(l.down_bias.defined());
}

TEST(ModelWeights, Tp2SlicesMatchFullTensors) {
  TempDir dir;
  TinyModel m;
  m.attention_out_bias = true;
  m.mlp_bias = true;
  auto ids = m.write(dir.path());
  for (int rank = 0; rank < 2; rank++) {
    SCOPED_TRACE("rank " + std::to_string(rank));
    ModelWeights w = load_model_weights(dir.path(), {rank, 2});
    EXPECT_EQ(w.shard.num_q_heads, 2);
    EXPECT_EQ(w.shard.num_kv_heads, 1);
    EXPECT_EQ(w.shard.intermediate, 12);
    // odd vocab: 501 rows on rank 0, 500 on rank 1
    const int64_t vbegin = rank == 0 ? 0 : 501, vrows = rank == 0 ? 501 : 500;
    EXPECT_EQ(w.shard.vocab_begin, vbegin);
    EXPECT_EQ(w.embed_tokens.shape(), (std::vector<int64_t>{vrows, 16}));
    EXPECT_EQ(w.lm_head.weight.shape(), (std::vector<int64_t>{vrows, 16}));
    expect_block(w.embed_tokens, ids["model.embed_tokens.weight"], vbegin, 0, 16, "embed");
    expect_block(w.lm_head.weight, ids["lm_head.weight"], vbegin, 0, 16, "lm_head");
    for (int64_t i = 0; i < 2; i++) {
      const LayerWeights& l = w.layers[static_cast<size_t>(i)];
      const std::string p = "model.layers." + std::to_string(i) + ".";
      // q: 32 rows → rank's 16; k/v: 16 rows → 8; gate/up: 24 rows → 12
      EXPECT_EQ(l.q_proj.weight.shape(), (std::vector<int64_t>{16, 16}));
      expect_block(l.q_proj.weight, ids[p + "self_attn.q_proj.weight"], rank * 16, 0, 16, "q_proj");
      expect_block(l.k_proj.weight, ids[p + "self_attn.k_proj.weight"], rank * 8, 0, 16, "k_proj");
      expect_block(l.v_proj.weight, ids[p + "self_attn.v_proj.weight"], rank * 8, 0, 16, "v_proj");
      expect_block(l.q_bias, ids[p + "self_attn.q_proj.bias"], rank * 16, 0, 1, "q_bias");
      expect_block(l.k_bias, ids[p + "self_attn.k_proj.bias"], rank * 8, 0, 1, "k_bias");
      expect_block(l.v_bias, ids[p + "self_attn.v_proj.bias"], rank * 8, 0, 1, "v_bias");
      expect_block(l.gate_proj.weight, ids[p + "mlp.gate_proj.weight"], rank * 12, 0, 16, "gate");
      expect_block(l.up_proj.weight, ids[p + "mlp.up_proj.weight"], rank * 12, 0, 16, "up");
      expect_block(l.gate_bias, ids[p + "mlp.gate_proj.bias"], rank * 12, 0, 1, "gate_bias");
      expect_block(l.up_bias, ids[p + "mlp.up_proj.bias"], rank * 12, 0, 1, "up_bias");
      // row-parallel: column halves, biases whole
      EXPECT_EQ(l.o_proj.weight.shape(), (std::vector<int64_t>{16, 16}));
      expect_block(l.o_proj.weight, ids[p + "self_attn.o_proj.weight"], 0, rank * 16, 32, "o_proj");
      EXPECT_EQ(l.down_proj.weight.shape(), (std::vector<int64_t>{16, 12}));
      expect_block(l.down_proj.weight, ids[p + "mlp.down_proj.weight"], 0, rank * 12, 24, "down_proj");
      EXPECT_EQ(l.o_bias.shape(), (std::vector<int64_t>{16}));
      expect_block(l.o_bias, ids[p + "self_attn.o_proj.bias"], 0, 0, 1, "o_bias");
      expect_block(l.down_bias, ids[p + "mlp.down_proj.bias"], 0, 0, 1, "down_bias");
      expect_block(l.input_norm, ids[p + "input_layernorm.weight"], 0, 0, 1, "input_norm");
      expect_block(l.post_attention_norm, ids[p + "post_attention_layernorm.weight"], 0, 0, 1, "post_norm");
    }
  }
}

TEST(ModelWeights, TiedEmbeddingsShareTheSlice) {
  TempDir dir;
  TinyModel m;
  m.architecture = "LlamaForCausalLM";
  m.attention_bias = false;
  m.tie = true;
  auto ids = m.write(dir.path());
  ModelWeights w = load_model_weights(dir.path(), {1, 2});
  EXPECT_EQ(w.lm_head.weight.data(), w.embed_tokens.data());
  EXPECT_EQ(w.lm_head.weight.shape(), (std::vector<int64_t>{500, 16}));
  expect_block(w.lm_head.weight, ids["model.embed_tokens.weight"], 501, 0, 16, "lm_head");
  EXPECT_FALSE(w.layers[0].q_bias.defined());
}

TEST(ModelWeights, ShardedCheckpointLoadsTheSame) {
  TempDir dir;
  TinyModel m;
  m.num_shards = 3;
  auto ids = m.write(dir.path());
  ModelWeights w = load_model_weights(dir.path(), {1, 2});
  expect_block(w.layers[1].o_proj.weight, ids["model.layers.1.self_attn.o_proj.weight"], 0, 16, 32, "o_proj");
  expect_block(w.lm_head.weight, ids["lm_head.weight"], 501, 0, 16, "lm_head");
}

TEST(ModelWeights, MissingTensorIsNamed) {
  for (const char* name : {"model.layers.1.mlp.up_proj.weight", "lm_head.weight", "model.layers.0.self_attn.k_proj.bias"}) {
    TempDir dir;
    TinyModel m;
    m.skip = {name};
    m.write(dir.path());
    expect_error([&] { load_model_weights(dir.path(), {0, 1}); }, {name, "missing"});
  }
}

TEST(ModelWeights, WrongShapeNamesTensorAndBothShapes) {
  TempDir dir;
  TinyModel m;
  m.num_shards = 2;
  m.reshape["model.layers.1.self_attn.v_proj.weight"] = {8, 16};
  m.write(dir.path());
  std::vector<std::pair<int64_t, int64_t>> calls;
  expect_error([&] { load_model_weights(dir.path(), {0, 2}, count_progress, &calls); },
               {"model.layers.1.self_attn.v_proj.weight", ".safetensors", "[8, 16]", "[16, 16]"});
  EXPECT_TRUE(calls.empty());  // every shape is checked before anything is cut
}

TEST(ModelWeights, TpErrorBeforeAnyFileIsRead) {
  TempDir dir;
  TinyModel m;
  test_util::write_text(dir.file("config.json"), m.config().dump());  // no safetensors at all
  expect_error([&] { load_model_weights(dir.path(), {0, 3}); }, {"tp=3 does not divide num_attention_heads=4"});
  expect_error([&] { load_model_weights(dir.path(), {0, 4}); }, {"tp=4 does not divide num_key_value_heads=2"});
  // with a valid tp the missing checkpoint is what fails
  expect_error([&] { load_model_weights(dir.path(), {0, 2}); }, {"model.safetensors", dir.path()});
}

TEST(ModelWeights, CorruptShardNamesFile) {
  TempDir dir;
  TinyModel m;
  m.write(dir.path());
  test_util::write_bytes(dir.file("model.safetensors"), {9, 0, 0, 0, 0, 0, 0, 0, '{'});
  expect_error([&] { load_model_weights(dir.path(), {0, 1}); }, {dir.file("model.safetensors")});
}

}  // namespace
}  // namespace tpserve
