// Pre-quantized checkpoints written here from the published layouts (AutoGPTQ's pack(): qweight
// [k/8, n] with input row 8i+b in bits 4b..4b+3, qzeros [k/g, n/8] along n holding zero - 1,
// g_idx [k]; AutoAWQ's GEMM pack(): qweight [k, n/8] / qzeros along n in the order 0 2 4 6 1 3 5 7;
// vLLM / llm-compressor fp8: F8_E4M3 weight + weight_scale) load into weights equal to the
// reference W[r, c] = (q - z) * s (GPTQ/AWQ) or e4m3(q) * scale (fp8) computed here, and the CPU
// linear over them equals the reference dot product. Unsupported variants give one error naming the field.
// Run: ctest -R QuantizedCheckpoint
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/cpu/linear_quantized.h"
#include "quant_dot_scope.h"
#include "safetensors_writer.h"
#include "tpserve/model_weights.h"

namespace tpserve {
namespace {

using test_util::SafetensorsWriter;
using test_util::TempDir;

constexpr int64_t kVocab = 40, kHidden = 64, kInter = 128, kHeads = 2, kKvHeads = 2, kHeadDim = 32, kGroup = 32;

struct Layer {
  std::string name;
  int64_t n, k;
};
const Layer kLinears[] = {{"self_attn.q_proj", kHeads * kHeadDim, kHidden}, {"self_attn.k_proj", kKvHeads * kHeadDim, kHidden},
                          {"self_attn.v_proj", kKvHeads * kHeadDim, kHidden}, {"self_attn.o_proj", kHidden, kHeads * kHeadDim},
                          {"mlp.gate_proj", kInter, kHidden},               {"mlp.up_proj", kInter, kHidden},
                          {"mlp.down_proj", kHidden, kInter}};

std::vector<uint8_t> int32_bytes(const std::vector<int32_t>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// The float parts of a one-layer Llama checkpoint, and its config with `quantization_config`.
void write_model(const TempDir& dir, SafetensorsWriter& w, const nlohmann::json& quantization_config) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  auto rand = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
  };
  w.add_f32("model.embed_tokens.weight", {kVocab, kHidden}, rand(kVocab * kHidden));
  w.add_f32("lm_head.weight", {kVocab, kHidden}, rand(kVocab * kHidden));
  w.add_f32("model.norm.weight", {kHidden}, rand(kHidden));
  w.add_f32("model.layers.0.input_layernorm.weight", {kHidden}, rand(kHidden));
  w.add_f32("model.layers.0.post_attention_layernorm.weight", {kHidden}, rand(kHidden));
  w.write(dir.file("model.safetensors"));
  nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}}, {"vocab_size", kVocab}, {"hidden_size", kHidden},
                           {"intermediate_size", kInter}, {"num_hidden_layers", 1}, {"num_attention_heads", kHeads},
                           {"num_key_value_heads", kKvHeads}, {"head_dim", kHeadDim}, {"rope_theta", 10000},
                           {"eos_token_id", 2}, {"quantization_config", quantization_config}};
  test_util::write_text(dir.file("config.json"), config.dump());
}

// A reference [n, k] weight per layer, filled by the writers below.
using Reference = std::map<std::string, std::vector<double>>;

// GPTQ 4-bit, group kGroup; act_order shuffles which group each input column belongs to.
void add_gptq(SafetensorsWriter& w, Reference& ref, const Layer& l, bool act_order, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t n = l.n, k = l.k, ng = k / kGroup;
  std::vector<int> q(k * n), z(ng * n);
  std::vector<float> s(ng * n);
  for (int& v : q) v = static_cast<int>(rng() % 16);
  for (int& v : z) v = 1 + static_cast<int>(rng() % 15);  // v1 stores z - 1 >= 0
  for (float& v : s) v = f16_to_float(float_to_f16(0.01f + static_cast<float>(rng() % 1000) / 20000.f));
  std::vector<int32_t> g_idx(k);
  for (int64_t c = 0; c < k; c++) g_idx[c] = static_cast<int32_t>(c / kGroup);
  if (act_order) std::shuffle(g_idx.begin(), g_idx.end(), rng);
  std::vector<int32_t> qweight(k / 8 * n, 0), qzeros(ng * n / 8, 0);
  for (int64_t c = 0; c < k; c++)
    for (int64_t r = 0; r < n; r++) qweight[(c / 8) * n + r] |= q[c * n + r] << (4 * (c % 8));
  for (int64_t j = 0; j < ng; j++)
    for (int64_t r = 0; r < n; r++) qzeros[j * (n / 8) + r / 8] |= (z[j * n + r] - 1) << (4 * (r % 8));
  const std::string p = "model.layers.0." + l.name;
  w.add_raw(p + ".qweight", "I32", {k / 8, n}, int32_bytes(qweight));
  w.add_raw(p + ".qzeros", "I32", {ng, n / 8}, int32_bytes(qzeros));
  w.add_f16(p + ".scales", {ng, n}, s);
  w.add_raw(p + ".g_idx", "I32", {k}, int32_bytes(g_idx));
  auto& W = ref[p];
  W.resize(n * k);
  for (int64_t r = 0; r < n; r++)
    for (int64_t c = 0; c < k; c++) {
      const int64_t j = g_idx[c];
      W[r * k + c] = (q[c * n + r] - z[j * n + r]) * static_cast<double>(s[j * n + r]);
    }
}

void add_awq(SafetensorsWriter& w, Reference& ref, const Layer& l, uint32_t seed) {
  static const int kOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  std::mt19937 rng(seed);
  const int64_t n = l.n, k = l.k, ng = k / kGroup;
  std::vector<int> q(k * n), z(ng * n);
  std::vector<float> s(ng * n);
  for (int& v : q) v = static_cast<int>(rng() % 16);
  for (int& v : z) v = static_cast<int>(rng() % 16);
  for (float& v : s) v = f16_to_float(float_to_f16(0.01f + static_cast<float>(rng() % 1000) / 20000.f));
  std::vector<int32_t> qweight(k * n / 8, 0), qzeros(ng * n / 8, 0);
  for (int64_t c = 0; c < k; c++)
    for (int64_t r8 = 0; r8 < n / 8; r8++)
      for (int i = 0; i < 8; i++) qweight[c * (n / 8) + r8] |= q[c * n + r8 * 8 + kOrder[i]] << (4 * i);
  for (int64_t j = 0; j < ng; j++)
    for (int64_t r8 = 0; r8 < n / 8; r8++)
      for (int i = 0; i < 8; i++) qzeros[j * (n / 8) + r8] |= z[j * n + r8 * 8 + kOrder[i]] << (4 * i);
  const std::string p = "model.layers.0." + l.name;
  w.add_raw(p + ".qweight", "I32", {k, n / 8}, int32_bytes(qweight));
  w.add_raw(p + ".qzeros", "I32", {ng, n / 8}, int32_bytes(qzeros));
  w.add_f16(p + ".scales", {ng, n}, s);
  auto& W = ref[p];
  W.resize(n * k);
  for (int64_t r = 0; r < n; r++)
    for (int64_t c = 0; c < k; c++) W[r * k + c] = (q[c * n + r] - z[(c / kGroup) * n + r]) * static_cast<double>(s[(c / kGroup) * n + r]);
}

void add_fp8(SafetensorsWriter& w, Reference& ref, const Layer& l, bool per_channel, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t n = l.n, k = l.k;
  std::vector<uint8_t> codes(n * k);
  for (uint8_t& v : codes) {
    do v = static_cast<uint8_t>(rng() % 256);
    while ((v & 0x7f) == 0x7f);  // NaN codes
  }
  std::vector<float> scale(per_channel ? n : 1);
  for (float& v : scale) v = 0.001f * static_cast<float>(1 + rng() % 100);
  const std::string p = "model.layers.0." + l.name;
  w.add_raw(p + ".weight", "F8_E4M3", {n, k}, codes);
  if (per_channel) w.add_f32(p + ".weight_scale", {n, 1}, scale);
  else w.add_f32(p + ".weight_scale", {}, scale);
  auto& W = ref[p];
  W.resize(n * k);
  for (int64_t r = 0; r < n; r++)
    for (int64_t c = 0; c < k; c++) {
      const uint8_t v = codes[r * k + c];
      const int e = (v >> 3) & 15, m = v & 7;
      const double mag = e == 0 ? std::ldexp(m, -9) : std::ldexp(1.0 + m / 8.0, e - 7);
      W[r * k + c] = ((v & 0x80) ? -mag : mag) * scale[per_channel ? r : 0];
    }
}

const LinearWeight& linear_of(const LayerWeights& l, const std::string& name) {
  if (name == "self_attn.q_proj") return l.q_proj;
  if (name == "self_attn.k_proj") return l.k_proj;
  if (name == "self_attn.v_proj") return l.v_proj;
  if (name == "self_attn.o_proj") return l.o_proj;
  if (name == "mlp.gate_proj") return l.gate_proj;
  if (name == "mlp.up_proj") return l.up_proj;
  return l.down_proj;
}

void expect_matches(const ModelWeights& mw, const Reference& ref, WeightFormat format) {
  for (const Layer& l : kLinears) {
    const LinearWeight& lw = linear_of(mw.layers[0], l.name);
    const std::vector<double>& W = ref.at("model.layers.0." + l.name);
    ASSERT_EQ(lw.format, format) << l.name;
    Tensor d = dequantize_weight(lw);
    for (int64_t i = 0; i < l.n * l.k; i++) ASSERT_NEAR(d.ptr<float>()[i], W[i], 1e-6 + 1e-6 * std::fabs(W[i])) << l.name << " " << i;
    // the CPU kernel over the loaded weight (act-order gather included) against the reference dot,
    // x kept in fp32 (the int8 / bf16 activation paths: linear_vnni_test, linear_fp8_bf16_test)
    test::QuantDotScope dot("float");
    std::vector<float> x(l.k), y(l.n);
    for (int64_t c = 0; c < l.k; c++) x[c] = std::sin(0.37f * static_cast<float>(c));
    cpu::linear_any(x.data(), lw, nullptr, 1, y.data());
    for (int64_t r = 0; r < l.n; r++) {
      double want = 0;
      for (int64_t c = 0; c < l.k; c++) want += x[c] * W[r * l.k + c];
      EXPECT_NEAR(y[r], want, 1e-4 * (1 + std::fabs(want))) << l.name << " row " << r;
    }
  }
}

TEST(QuantizedCheckpoint, GptqWithAndWithoutActOrderLoadsItsReference) {
  for (bool act_order : {false, true}) {
    TempDir dir;
    SafetensorsWriter w;
    Reference ref;
    uint32_t seed = 1;
    for (const Layer& l : kLinears) add_gptq(w, ref, l, act_order, seed++);
    write_model(dir, w, {{"quant_method", "gptq"}, {"bits", 4}, {"group_size", kGroup}, {"desc_act", act_order}, {"sym", false}});
    ModelWeights mw = load_model_weights(dir.path(), {0, 1});
    expect_matches(mw, ref, WeightFormat::Int4);
    EXPECT_EQ(mw.layers[0].q_proj.perm.defined(), act_order);
  }
}

TEST(QuantizedCheckpoint, AwqGemmLoadsItsReference) {
  TempDir dir;
  SafetensorsWriter w;
  Reference ref;
  uint32_t seed = 20;
  for (const Layer& l : kLinears) add_awq(w, ref, l, seed++);
  write_model(dir, w, {{"quant_method", "awq"}, {"bits", 4}, {"group_size", kGroup}, {"version", "gemm"}, {"zero_point", true}});
  expect_matches(load_model_weights(dir.path(), {0, 1}), ref, WeightFormat::Int4);
}

TEST(QuantizedCheckpoint, Fp8PerTensorAndPerChannelLoadItsReference) {
  TempDir dir;
  SafetensorsWriter w;
  Reference ref;
  uint32_t seed = 40;
  bool per_channel = false;
  for (const Layer& l : kLinears) add_fp8(w, ref, l, per_channel = !per_channel, seed++);
  write_model(dir, w, {{"quant_method", "compressed-tensors"}, {"format", "float-quantized"},
                       {"config_groups", {{"group_0", {{"weights", {{"num_bits", 8}, {"type", "float"}, {"strategy", "channel"}}}}}}}});
  expect_matches(load_model_weights(dir.path(), {0, 1}), ref, WeightFormat::Fp8);
  // tp=2 slices of the fp8 weights keep their per-row scales
  ModelWeights r1 = load_model_weights(dir.path(), {1, 2});
  Tensor q1 = dequantize_weight(r1.layers[0].q_proj);
  const auto& Wq = ref.at("model.layers.0.self_attn.q_proj");
  for (int64_t i = 0; i < q1.numel(); i++) ASSERT_NEAR(q1.ptr<float>()[i], Wq[kHeadDim * kHidden + i], 1e-6 * (1 + std::fabs(Wq[kHeadDim * kHidden + i])));
}

TEST(QuantizedCheckpoint, UnsupportedVariantsNameTheField) {
  const std::pair<nlohmann::json, std::string> cases[] = {
      {{{"quant_method", "gptq"}, {"bits", 8}, {"group_size", 128}}, "quantization_config.bits = 8"},
      {{{"quant_method", "awq"}, {"bits", 4}, {"group_size", 128}, {"version", "gemv"}}, "quantization_config.version = \"gemv\""},
      {{{"quant_method", "fp8"}, {"weight_block_size", {128, 128}}}, "quantization_config.weight_block_size = [128,128]"},
      {{{"quant_method", "bitsandbytes"}}, "quantization_config.quant_method = \"bitsandbytes\""},
  };
  for (const auto& [qc, message] : cases) {
    TempDir dir;
    SafetensorsWriter w;
    write_model(dir, w, qc);
    try {
      load_model_weights(dir.path(), {0, 1});
      ADD_FAILURE() << "no error for " << qc.dump();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
  // and a pre-quantized checkpoint refuses a second quantization
  TempDir dir;
  SafetensorsWriter w;
  Reference ref;
  for (const Layer& l : kLinears) add_fp8(w, ref, l, true, 3);
  write_model(dir, w, {{"quant_method", "fp8"}});
  QuantizeOptions again;
  again.format = WeightFormat::Int8;
  EXPECT_THROW(load_model_weights(dir.path(), {0, 1}, nullptr, nullptr, again), Error);
}

}  // namespace
}  // namespace tpserve
