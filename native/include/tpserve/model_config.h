// ModelConfig: the decoder's shape read from a Hugging Face config.json
// (SeedOssForCausalLM, LlamaForCausalLM, Qwen2ForCausalLM).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tpserve {

struct ModelConfig {
  std::string architecture;       // e.g. "SeedOssForCausalLM"
  std::string model_type;         // e.g. "seed_oss"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;            // explicit in config.json when given; else hidden / heads
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::string rope_type = "default";  // "default" or "llama3"
  double rope_factor = 1.0;           // llama3 scaling parameters
  double rope_low_freq_factor = 1.0;
  double rope_high_freq_factor = 4.0;
  int64_t rope_original_max_position = 8192;
  int64_t max_position_embeddings = 4096;
  bool attention_bias = false;      // bias on q, k, v
  bool attention_out_bias = false;  // bias on o_proj
  bool mlp_bias = false;            // bias on gate, up, down
  bool tie_word_embeddings = false;
  std::string torch_dtype = "bfloat16";
  std::vector<int64_t> eos_token_ids;
  int64_t bos_token_id = -1;

  // Frequencies of the rotary embedding, [head_dim / 2], with any rope scaling applied.
  std::vector<double> rope_inv_freq() const;
};

// Parses config.json text; `origin` names the file in error messages.
ModelConfig parse_model_config(const std::string& json_text, const std::string& origin);
// Reads <dir>/config.json.
ModelConfig load_model_config(const std::string& model_dir);

}  // namespace tpserve
