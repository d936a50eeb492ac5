// ModelConfig: parses a Hugging Face config.json (SeedOssForCausalLM, LlamaForCausalLM,
// Qwen2ForCausalLM) into the decoder's shape, and computes the rotary inverse frequencies.
// Tested by tests/model_config_test.cpp.
#include "tpserve/model_config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tpserve/error.h"

namespace tpserve {
namespace {

using json = nlohmann::json;

const char* const kSupportedArchitectures = "SeedOssForCausalLM, LlamaForCausalLM, Qwen2ForCausalLM";

bool present(const json& j, const char* key) { return j.contains(key) && !j.at(key).is_null(); }

int64_t get_int(const json& j, const char* key, const std::string& origin) {
  TPS_CHECK(present(j, key), origin, ": missing required key '", key, "'");
  const json& v = j.at(key);
  // Some exporters write integral values as floats (e.g. 4096.0).
  if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) return static_cast<int64_t>(v.get<double>());
  TPS_CHECK(v.is_number_integer(), origin, ": key '", key, "' must be an integer, got ", v.dump());
  return v.get<int64_t>();
}

int64_t get_int_or(const json& j, const char* key, int64_t fallback, const std::string& origin) {
  return present(j, key) ? get_int(j, key, origin) : fallback;
}

int64_t get_positive(const json& j, const char* key, const std::string& origin) {
  int64_t v = get_int(j, key, origin);
  TPS_CHECK(v > 0, origin, ": key '", key, "' must be positive, got ", v);
  return v;
}

double get_double_or(const json& j, const char* key, double fallback, const std::string& origin) {
  if (!present(j, key)) return fallback;
  const json& v = j.at(key);
  TPS_CHECK(v.is_number(), origin, ": key '", key, "' must be a number, got ", v.dump());
  return v.get<double>();
}

bool get_bool_or(const json& j, const char* key, bool fallback, const std::string& origin) {
  if (!present(j, key)) return fallback;
  const json& v = j.at(key);
  TPS_CHECK(v.is_boolean(), origin, ": key '", key, "' must be true or false, got ", v.dump());
  return v.get<bool>();
}

std::string get_string_or(const json& j, const char* key, const std::string& fallback, const std::string& origin) {
  if (!present(j, key)) return fallback;
  const json& v = j.at(key);
  TPS_CHECK(v.is_string(), origin, ": key '", key, "' must be a string, got ", v.dump());
  return v.get<std::string>();
}

// rope_scaling: null, {"rope_type"|"type": "default"} or llama3 with its four parameters.
void parse_rope_scaling(const json& j, const std::string& origin, ModelConfig& c) {
  if (!present(j, "rope_scaling")) return;
  const json& rs = j.at("rope_scaling");
  TPS_CHECK(rs.is_object(), origin, ": key 'rope_scaling' must be an object or null, got ", rs.dump());
  std::string type = get_string_or(rs, "rope_type", get_string_or(rs, "type", "default", origin), origin);
  if (type == "default") return;
  TPS_CHECK(type == "llama3", origin, ": key 'rope_scaling.rope_type' = '", type,
            "' is not supported (supported: default, llama3)");
  const std::string where = origin + " (rope_scaling)";
  for (const char* key : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
    TPS_CHECK(present(rs, key), origin, ": key 'rope_scaling.", key, "' is required for llama3 rope scaling");
  c.rope_type = "llama3";
  c.rope_factor = get_double_or(rs, "factor", 0.0, where);
  c.rope_low_freq_factor = get_double_or(rs, "low_freq_factor", 0.0, where);
  c.rope_high_freq_factor = get_double_or(rs, "high_freq_factor", 0.0, where);
  c.rope_original_max_position = get_positive(rs, "original_max_position_embeddings", where);
  TPS_CHECK(c.rope_factor > 0, origin, ": key 'rope_scaling.factor' must be positive, got ", c.rope_factor);
  TPS_CHECK(c.rope_low_freq_factor > 0 && c.rope_high_freq_factor > c.rope_low_freq_factor, origin,
            ": keys 'rope_scaling.low_freq_factor'/'high_freq_factor' need 0 < low < high, got ",
            c.rope_low_freq_factor, " and ", c.rope_high_freq_factor);
}

void parse_token_ids(const json& j, const std::string& origin, ModelConfig& c) {
  if (present(j, "eos_token_id")) {
    const json& eos = j.at("eos_token_id");
    if (eos.is_array()) {
      for (const json& id : eos) {
        TPS_CHECK(id.is_number_integer(), origin, ": key 'eos_token_id' must hold integers, got ", eos.dump());
        c.eos_token_ids.push_back(id.get<int64_t>());
      }
    } else {
      c.eos_token_ids.push_back(get_int(j, "eos_token_id", origin));
    }
  }
  c.bos_token_id = get_int_or(j, "bos_token_id", -1, origin);
}

}  // namespace

ModelConfig parse_model_config(const std::string& json_text, const std::string& origin) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    TPS_THROW(origin, ": malformed JSON: ", e.what());
  }
  TPS_CHECK(j.is_object(), origin, ": expected a JSON object at the top level");

  ModelConfig c;
  TPS_CHECK(present(j, "architectures") && j.at("architectures").is_array() && !j.at("architectures").empty() &&
                j.at("architectures")[0].is_string(),
            origin, ": key 'architectures' must be a non-empty list of names (supported: ", kSupportedArchitectures, ")");
  c.architecture = j.at("architectures")[0].get<std::string>();
  const bool is_seed = c.architecture == "SeedOssForCausalLM";
  const bool is_llama = c.architecture == "LlamaForCausalLM";
  const bool is_qwen2 = c.architecture == "Qwen2ForCausalLM";
  TPS_CHECK(is_seed || is_llama || is_qwen2, origin, ": key 'architectures' names unsupported architecture '",
            c.architecture, "' (supported: ", kSupportedArchitectures, ")");
  c.model_type = get_string_or(j, "model_type", "", origin);

  c.vocab_size = get_positive(j, "vocab_size", origin);
  c.hidden_size = get_positive(j, "hidden_size", origin);
  c.intermediate_size = get_positive(j, "intermediate_size", origin);
  c.num_hidden_layers = get_positive(j, "num_hidden_layers", origin);
  c.num_attention_heads = get_positive(j, "num_attention_heads", origin);
  c.num_key_value_heads = present(j, "num_key_value_heads") ? get_positive(j, "num_key_value_heads", origin)
                                                            : c.num_attention_heads;
  TPS_CHECK(c.num_attention_heads % c.num_key_value_heads == 0, origin, ": key 'num_attention_heads' (",
            c.num_attention_heads, ") must be divisible by 'num_key_value_heads' (", c.num_key_value_heads, ")");
  if (present(j, "head_dim")) {
    // explicit head_dim wins: Seed-OSS has 128 while hidden / heads = 64
    c.head_dim = get_positive(j, "head_dim", origin);
  } else {
    TPS_CHECK(c.hidden_size % c.num_attention_heads == 0, origin, ": no 'head_dim' and 'hidden_size' (",
              c.hidden_size, ") is not divisible by 'num_attention_heads' (", c.num_attention_heads, ")");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  TPS_CHECK(c.head_dim % 2 == 0, origin, ": key 'head_dim' must be even for rotary embeddings, got ", c.head_dim);

  c.rms_norm_eps = get_double_or(j, "rms_norm_eps", 1e-6, origin);
  TPS_CHECK(c.rms_norm_eps > 0, origin, ": key 'rms_norm_eps' must be positive, got ", c.rms_norm_eps);
  c.rope_theta = get_double_or(j, "rope_theta", 10000.0, origin);
  TPS_CHECK(c.rope_theta > 0, origin, ": key 'rope_theta' must be positive, got ", c.rope_theta);
  parse_rope_scaling(j, origin, c);
  c.max_position_embeddings = get_int_or(j, "max_position_embeddings", 4096, origin);
  TPS_CHECK(c.max_position_embeddings > 0, origin, ": key 'max_position_embeddings' must be positive, got ",
            c.max_position_embeddings);

  // Qwen2 always has q/k/v bias (no config key); Seed-OSS defaults to it; Llama does not.
  c.attention_bias = is_qwen2 ? true : get_bool_or(j, "attention_bias", is_seed, origin);
  // o_proj bias: Seed-OSS has its own flag; Llama's o_proj follows attention_bias (as in
  // transformers' LlamaAttention); Qwen2's o_proj never has one.
  c.attention_out_bias = is_qwen2 ? false : is_llama ? c.attention_bias : get_bool_or(j, "attention_out_bias", false, origin);
  c.mlp_bias = get_bool_or(j, "mlp_bias", false, origin);
  c.tie_word_embeddings = get_bool_or(j, "tie_word_embeddings", false, origin);
  if (is_qwen2)  // the forward pass has no sliding-window attention
    TPS_CHECK(!get_bool_or(j, "use_sliding_window", false, origin), origin,
              ": key 'use_sliding_window' = true is not supported");

  // transformers >= 4.56 writes "dtype" instead of "torch_dtype"
  c.torch_dtype = get_string_or(j, "torch_dtype", get_string_or(j, "dtype", "bfloat16", origin), origin);
  parse_token_ids(j, origin, c);
  return c;
}

ModelConfig load_model_config(const std::string& model_dir) {
  const std::string path = model_dir + "/config.json";
  std::ifstream in(path, std::ios::binary);
  TPS_CHECK(in.good(), "cannot open ", path, " (is '", model_dir, "' a model directory?)");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_model_config(text.str(), path);
}

// 1 / theta^(2i / head_dim), then llama3's piecewise rescaling (transformers'
// _compute_llama3_parameters): long wavelengths divided by factor, short kept, a smooth blend between.
std::vector<double> ModelConfig::rope_inv_freq() const {
  TPS_CHECK(head_dim > 0 && head_dim % 2 == 0, "rope_inv_freq: head_dim must be positive and even, got ", head_dim);
  const int64_t half = head_dim / 2;
  std::vector<double> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; i++)
    inv_freq[i] = 1.0 / std::pow(rope_theta, static_cast<double>(2 * i) / static_cast<double>(head_dim));
  if (rope_type == "default") return inv_freq;
  TPS_CHECK(rope_type == "llama3", "rope_inv_freq: unsupported rope_type '", rope_type, "'");

  const double old_context = static_cast<double>(rope_original_max_position);
  const double low_freq_wavelen = old_context / rope_low_freq_factor;
  const double high_freq_wavelen = old_context / rope_high_freq_factor;
  const double pi = std::acos(-1.0);
  for (double& f : inv_freq) {
    const double wavelen = 2 * pi / f;
    if (wavelen > low_freq_wavelen) {
      f = f / rope_factor;  // low frequency: fully scaled
    } else if (wavelen >= high_freq_wavelen) {
      // medium frequency: interpolate between scaled and unscaled
      const double smooth = (old_context / wavelen - rope_low_freq_factor) / (rope_high_freq_factor - rope_low_freq_factor);
      f = (1 - smooth) * f / rope_factor + smooth * f;
    }  // high frequency: unchanged
  }
  return inv_freq;
}

}  // namespace tpserve
