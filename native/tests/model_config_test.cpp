// ModelConfig tests: the real Seed-OSS config, Llama/Qwen2 defaults, rope scaling (llama3 against
// a hand computation), and validation errors that name the file and key.
//   ctest --test-dir native/build -R ModelConfig
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "safetensors_writer.h"
#include "tpserve/error.h"
#include "tpserve/model_config.h"

namespace tpserve {
namespace {

using test_util::expect_error;

using json = nlohmann::json;

// Verbatim copy of shared/reference/seed-oss/config.json (Seed-OSS-36B-Instruct), so the test
// runs on a clone without shared/.
const char* const kSeedOssConfig = R"json({
  "architectures": [
    "SeedOssForCausalLM"
  ],
  "model_type": "seed_oss",
  "hidden_size": 5120,
  "intermediate_size": 27648,
  "num_hidden_layers": 64,
  "num_attention_heads": 80,
  "num_key_value_heads": 8,
  "head_dim": 128,
  "vocab_size": 155136,
  "rope_theta": 10000000.0,
  "rope_scaling": {
    "rope_type": "default"
  },
  "max_position_embeddings": 524288,
  "rms_norm_eps": 1e-06,
  "hidden_act": "silu",
  "attention_bias": true,
  "attention_out_bias": false,
  "mlp_bias": false,
  "tie_word_embeddings": false,
  "attention_dropout": 0.1,
  "residual_dropout": 0.1,
  "bos_token_id": 0,
  "pad_token_id": 1,
  "eos_token_id": 2,
  "initializer_range": 0.02,
  "pretraining_tp": 1,
  "use_cache": true,
  "torch_dtype": "bfloat16"
})json";

// The reference file itself, kept in the repository's fixtures (compared against the copy above).
std::string seed_oss_reference_path() {
  std::string here = __FILE__;
  return here.substr(0, here.rfind("/native/tests/")) + "/fixtures/seed-oss/config.json";
}

json llama_config() {
  return json{{"architectures", {"LlamaForCausalLM"}},
              {"model_type", "llama"},
              {"vocab_size", 32000},
              {"hidden_size", 4096},
              {"intermediate_size", 11008},
              {"num_hidden_layers", 32},
              {"num_attention_heads", 32},
              {"max_position_embeddings", 4096},
              {"rms_norm_eps", 1e-5},
              {"bos_token_id", 1},
              {"eos_token_id", 2},
              {"torch_dtype", "float16"}};
}

void expect_seed_oss(const ModelConfig& c) {
  EXPECT_EQ(c.architecture, "SeedOssForCausalLM");
  EXPECT_EQ(c.model_type, "seed_oss");
  EXPECT_EQ(c.head_dim, 128);  // explicit; hidden / heads would be 64
  EXPECT_EQ(c.hidden_size / c.num_attention_heads, 64);
  EXPECT_EQ(c.num_attention_heads, 80);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.hidden_size, 5120);
  EXPECT_EQ(c.intermediate_size, 27648);
  EXPECT_EQ(c.num_hidden_layers, 64);
  EXPECT_EQ(c.vocab_size, 155136);
  EXPECT_TRUE(c.attention_bias);
  EXPECT_FALSE(c.attention_out_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e7);
  EXPECT_EQ(c.rope_type, "default");
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.max_position_embeddings, 524288);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{2}));
  EXPECT_EQ(c.bos_token_id, 0);
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  auto inv = c.rope_inv_freq();
  ASSERT_EQ(inv.size(), 64u);
  EXPECT_DOUBLE_EQ(inv[0], 1.0);
  EXPECT_NEAR(inv[1], 1.0 / std::pow(1e7, 2.0 / 128), 1e-15);
  EXPECT_NEAR(inv[63], 1.0 / std::pow(1e7, 126.0 / 128), 1e-18);
}

TEST(ModelConfig, SeedOssReference) {
  expect_seed_oss(parse_model_config(kSeedOssConfig, "seed-oss/config.json"));
  const std::string path = seed_oss_reference_path();
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path << " is missing (fixtures/seed-oss/README.md names its source)";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  expect_seed_oss(parse_model_config(text, path));
}

TEST(ModelConfig, LlamaDefaults) {
  ModelConfig c = parse_model_config(llama_config().dump(), "llama/config.json");
  EXPECT_EQ(c.head_dim, 128);             // derived: 4096 / 32
  EXPECT_EQ(c.num_key_value_heads, 32);   // defaults to heads
  EXPECT_FALSE(c.attention_bias);
  EXPECT_FALSE(c.attention_out_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_EQ(c.rope_type, "default");
  EXPECT_EQ(c.torch_dtype, "float16");
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{2}));
}

TEST(ModelConfig, Qwen2HasQkvBias) {
  json j = llama_config();
  j["architectures"] = {"Qwen2ForCausalLM"};
  j["num_key_value_heads"] = 4;
  j["tie_word_embeddings"] = true;
  j["eos_token_id"] = {151645, 151643};
  j["rope_scaling"] = nullptr;
  ModelConfig c = parse_model_config(j.dump(), "qwen/config.json");
  EXPECT_TRUE(c.attention_bias);
  EXPECT_FALSE(c.attention_out_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{151645, 151643}));
}

TEST(ModelConfig, RopeScalingDefaultSpellings) {
  json j = llama_config();
  j["rope_scaling"] = {{"type", "default"}};
  EXPECT_EQ(parse_model_config(j.dump(), "c.json").rope_type, "default");
  j["rope_scaling"] = {{"rope_type", "default"}};
  EXPECT_EQ(parse_model_config(j.dump(), "c.json").rope_type, "default");
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  expect_error([&] { parse_model_config(j.dump(), "yarn/config.json"); }, {"yarn/config.json", "rope_scaling", "yarn"});
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  expect_error([&] { parse_model_config(j.dump(), "l3/config.json"); }, {"l3/config.json", "low_freq_factor"});
}

TEST(ModelConfig, Llama3RopeScalingMatchesHandComputation) {
  json j = llama_config();
  j["hidden_size"] = 32;
  j["num_attention_heads"] = 4;  // head_dim 8: inv_freq 1, 0.1, 0.01, 0.001 at theta 1e4
  j["rope_scaling"] = {{"rope_type", "llama3"},
                       {"factor", 8.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 1024}};
  ModelConfig c = parse_model_config(j.dump(), "l3/config.json");
  EXPECT_EQ(c.rope_type, "llama3");
  EXPECT_EQ(c.rope_original_max_position, 1024);
  auto inv = c.rope_inv_freq();
  ASSERT_EQ(inv.size(), 4u);
  // wavelengths 2π/f = 6.28, 62.8 (< 256: high frequency, unchanged), 628 (medium), 6283 (> 1024: / factor)
  EXPECT_NEAR(inv[0], 1.0, 1e-15);
  EXPECT_NEAR(inv[1], 0.1, 1e-15);
  const double smooth = (1024.0 * 0.01 / (2 * M_PI) - 1.0) / 3.0;  // 0.2099155...
  EXPECT_NEAR(smooth, 0.20991553908700275, 1e-12);
  EXPECT_NEAR(inv[2], 0.003086760967011274, 1e-15);
  EXPECT_NEAR(inv[2], (1 - smooth) * 0.01 / 8 + smooth * 0.01, 1e-15);
  EXPECT_NEAR(inv[3], 0.001 / 8, 1e-15);
}

TEST(ModelConfig, ExplicitHeadDimIsNeverDerived) {
  json j = llama_config();
  j["head_dim"] = 256;  // hidden / heads = 128
  EXPECT_EQ(parse_model_config(j.dump(), "c.json").head_dim, 256);
  j["head_dim"] = nullptr;
  EXPECT_EQ(parse_model_config(j.dump(), "c.json").head_dim, 128);
}

TEST(ModelConfig, RejectsUnsupportedArchitecture) {
  json j = llama_config();
  j["architectures"] = {"MixtralForCausalLM"};
  expect_error([&] { parse_model_config(j.dump(), "mix/config.json"); },
               {"mix/config.json", "MixtralForCausalLM", "SeedOssForCausalLM", "LlamaForCausalLM", "Qwen2ForCausalLM"});
  j.erase("architectures");
  expect_error([&] { parse_model_config(j.dump(), "none/config.json"); }, {"none/config.json", "architectures"});
}

TEST(ModelConfig, ValidationNamesFileAndKey) {
  struct Case {
    const char* key;
    json value;
  };
  for (const Case& k : {Case{"hidden_size", 0}, Case{"hidden_size", "big"}, Case{"num_key_value_heads", 5},
                        Case{"head_dim", 7}, Case{"vocab_size", -3}, Case{"intermediate_size", nullptr},
                        Case{"attention_bias", "yes"}, Case{"rms_norm_eps", "tiny"}}) {
    json j = llama_config();
    j[k.key] = k.value;
    expect_error([&] { parse_model_config(j.dump(), "bad/config.json"); }, {"bad/config.json", k.key});
  }
  json j = llama_config();
  j["hidden_size"] = 4000;  // not divisible by 32 heads and no head_dim
  expect_error([&] { parse_model_config(j.dump(), "bad/config.json"); }, {"bad/config.json", "head_dim"});
  expect_error([&] { parse_model_config("{not json", "broken/config.json"); }, {"broken/config.json", "JSON"});
}

TEST(ModelConfig, LoadFromDirectory) {
  test_util::TempDir dir;
  expect_error([&] { load_model_config(dir.path()); }, {dir.path() + "/config.json"});
  test_util::write_text(dir.file("config.json"), llama_config().dump());
  EXPECT_EQ(load_model_config(dir.path()).num_hidden_layers, 32);
}

}  // namespace
}  // namespace tpserve
