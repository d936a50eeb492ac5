// A small random Seed-OSS-layout checkpoint (config.json + one bf16 model.safetensors) written
// from C++, so GPU checks need no Node and no Python. Shapes are Seed-OSS's in miniature:
// head_dim 128, 10 query heads per kv head, q/k/v bias, untied lm_head.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tpserve/dtype.h"
#include "tpserve/error.h"

namespace tpserve::bench {

struct TinyShape {
  int64_t vocab = 1024, hidden = 256, intermediate = 512, layers = 2, heads = 10, kv_heads = 1, head_dim = 128;
};

inline void write_tiny_checkpoint(const std::string& dir, const TinyShape& s, uint32_t seed) {
  struct Entry {
    std::string name;
    std::vector<int64_t> shape;
    float lo, hi;
  };
  std::vector<Entry> entries;
  const int64_t q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  auto lin = [&](const std::string& n, int64_t rows, int64_t cols) {
    float a = std::sqrt(3.0f / static_cast<float>(cols));
    entries.push_back({n, {rows, cols}, -a, a});
  };
  entries.push_back({"model.embed_tokens.weight", {s.vocab, s.hidden}, -1.f, 1.f});
  for (int64_t l = 0; l < s.layers; l++) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    entries.push_back({p + "input_layernorm.weight", {s.hidden}, 0.8f, 1.2f});
    entries.push_back({p + "post_attention_layernorm.weight", {s.hidden}, 0.8f, 1.2f});
    lin(p + "self_attn.q_proj.weight", q, s.hidden);
    lin(p + "self_attn.k_proj.weight", kv, s.hidden);
    lin(p + "self_attn.v_proj.weight", kv, s.hidden);
    entries.push_back({p + "self_attn.q_proj.bias", {q}, -0.2f, 0.2f});
    entries.push_back({p + "self_attn.k_proj.bias", {kv}, -0.2f, 0.2f});
    entries.push_back({p + "self_attn.v_proj.bias", {kv}, -0.2f, 0.2f});
    lin(p + "self_attn.o_proj.weight", s.hidden, q);
    lin(p + "mlp.gate_proj.weight", s.intermediate, s.hidden);
    lin(p + "mlp.up_proj.weight", s.intermediate, s.hidden);
    lin(p + "mlp.down_proj.weight", s.hidden, s.intermediate);
  }
  entries.push_back({"model.norm.weight", {s.hidden}, 0.8f, 1.2f});
  lin("lm_head.weight", s.vocab, s.hidden);

  std::mt19937 rng(seed);
  std::vector<uint16_t> data;
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
  for (const Entry& e : entries) {
    int64_t n = 1;
    for (int64_t d : e.shape) n *= d;
    const size_t begin = data.size() * 2;
    std::uniform_real_distribution<float> dist(e.lo, e.hi);
    for (int64_t i = 0; i < n; i++) data.push_back(float_to_bf16(dist(rng)));
    header += ",\"" + e.name + "\":{\"dtype\":\"BF16\",\"shape\":[";
    for (size_t i = 0; i < e.shape.size(); i++) header += (i ? "," : "") + std::to_string(e.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(data.size() * 2) + "]}";
  }
  header += "}";
  while (header.size() % 8) header += ' ';
  std::ofstream st(dir + "/model.safetensors", std::ios::binary | std::ios::trunc);
  TPS_CHECK(st.good(), "cannot write ", dir, "/model.safetensors");
  uint64_t len = header.size();
  char len_bytes[8];
  for (int i = 0; i < 8; i++) len_bytes[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  st.write(len_bytes, 8);
  st.write(header.data(), static_cast<std::streamsize>(header.size()));
  st.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * 2));

  std::ofstream cfg(dir + "/config.json", std::ios::trunc);
  cfg << "{\n  \"architectures\": [\"SeedOssForCausalLM\"],\n  \"model_type\": \"seed_oss\",\n"
      << "  \"vocab_size\": " << s.vocab << ",\n  \"hidden_size\": " << s.hidden << ",\n"
      << "  \"intermediate_size\": " << s.intermediate << ",\n  \"num_hidden_layers\": " << s.layers << ",\n"
      << "  \"num_attention_heads\": " << s.heads << ",\n  \"num_key_value_heads\": " << s.kv_heads << ",\n"
      << "  \"head_dim\": " << s.head_dim << ",\n  \"rms_norm_eps\": 1e-06,\n  \"rope_theta\": 10000000.0,\n"
      << "  \"max_position_embeddings\": 4096,\n  \"attention_bias\": true,\n  \"attention_out_bias\": false,\n"
      << "  \"mlp_bias\": false,\n  \"tie_word_embeddings\": false,\n  \"torch_dtype\": \"bfloat16\",\n"
      << "  \"eos_token_id\": 2,\n  \"bos_token_id\": 1\n}\n";
  TPS_CHECK(cfg.good(), "cannot write ", dir, "/config.json");
}

}  // namespace tpserve::bench
