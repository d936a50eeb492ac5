// Fused q/k/v and gate/up projections (model/fused_projections.h): the stacked weight of every
// format stands for the stacked parts (dequantized values and linear outputs), parts that cannot
// share a weight stay apart, and a decoder on fused weights gives the logits of the unfused one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../bench/tiny_checkpoint.h"
#include "kernels/cpu/linear_quantized.h"
#include "model/decoder.h"
#include "model/fused_projections.h"
#include "test_util.h"
#include "tpserve/backend.h"
#include "tpserve/communicator.h"

namespace tpserve {
namespace {

constexpr int64_t kK = 256;

struct Case {
  const char* name;
  DType dtype;          // float storage, or the source of the quantized weight
  WeightFormat format;  // Float: keep `dtype`
};

LinearWeight make_weight(const Case& c, int64_t n, uint32_t seed) {
  std::vector<float> v = test::random_floats(static_cast<size_t>(n * kK), seed, -0.5f, 0.5f);
  Tensor t = test::make_tensor(c.format == WeightFormat::Float ? c.dtype : DType::F32, {n, kK}, v);
  return c.format == WeightFormat::Float ? LinearWeight(t) : quantize_weight(t, c.format);
}

std::vector<float> run_linear(const LinearWeight& w, const Tensor* bias, const std::vector<float>& x, int64_t m) {
  std::vector<float> y(static_cast<size_t>(m * w.out_features()));
  cpu::linear_any(x.data(), w, bias, m, y.data());
  return y;
}

class FusedWeight : public ::testing::TestWithParam<Case> {};

TEST_P(FusedWeight, StandsForTheStackedParts) {
  const Case& c = GetParam();
  const int64_t rows[] = {96, 32, 32};  // q, k, v of 3 q heads / 1 kv head of 32
  std::vector<LinearWeight> parts;
  for (int i = 0; i < 3; i++) parts.push_back(make_weight(c, rows[i], 10 + i));
  LinearWeight fused = concat_weight_rows({&parts[0], &parts[1], &parts[2]});
  ASSERT_TRUE(fused.defined());
  EXPECT_EQ(fused.format, parts[0].format);
  EXPECT_EQ(fused.out_features(), 160);
  EXPECT_EQ(fused.in_features(), kK);
  EXPECT_EQ(fused.nbytes(), parts[0].nbytes() + parts[1].nbytes() + parts[2].nbytes());

  // Dequantized values: the parts' rows one after the other, exactly.
  Tensor all = dequantize_weight(fused);
  int64_t row0 = 0;
  for (int i = 0; i < 3; i++) {
    Tensor part = dequantize_weight(parts[i]);
    for (int64_t j = 0; j < part.numel(); j++)
      ASSERT_EQ(all.ptr<float>()[row0 * kK + j], part.ptr<float>()[j]) << c.name << " part " << i << " elem " << j;
    row0 += rows[i];
  }

  // Linear outputs with a bias on q and v only (k's share is zero), decode (m = 1) and prefill sizes.
  std::vector<float> bq = test::random_floats(96, 5), bv = test::random_floats(32, 6);
  Tensor tq = test::make_tensor(DType::F32, {96}, bq), tv = test::make_tensor(DType::F32, {32}, bv), none;
  Tensor fused_bias = concat_biases({&tq, &none, &tv}, {96, 32, 32});
  ASSERT_TRUE(fused_bias.defined());
  const Tensor* part_bias[] = {&tq, nullptr, &tv};
  for (int64_t m : {1, 3, 64}) {
    std::vector<float> x = test::random_floats(static_cast<size_t>(m * kK), 7 + static_cast<uint32_t>(m));
    std::vector<float> y = run_linear(fused, &fused_bias, x, m);
    int64_t col0 = 0;
    for (int i = 0; i < 3; i++) {
      std::vector<float> yp = run_linear(parts[i], part_bias[i], x, m);
      for (int64_t r = 0; r < m; r++)
        for (int64_t j = 0; j < rows[i]; j++) {
          const float want = yp[r * rows[i] + j];
          ASSERT_NEAR(y[r * 160 + col0 + j], want, 1e-5f * (1.f + std::fabs(want)))
              << c.name << " m=" << m << " part " << i << " row " << r << " col " << j;
        }
      col0 += rows[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, FusedWeight,
                         ::testing::Values(Case{"bf16", DType::BF16, WeightFormat::Float},
                                           Case{"f16", DType::F16, WeightFormat::Float},
                                           Case{"f32", DType::F32, WeightFormat::Float},
                                           Case{"int8", DType::F32, WeightFormat::Int8},
                                           Case{"int4", DType::F32, WeightFormat::Int4},
                                           Case{"fp8", DType::F32, WeightFormat::Fp8}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(FusedWeight, PartsThatCannotShareAWeightStayApart) {
  LinearWeight a = make_weight({"", DType::F32, WeightFormat::Int8}, 16, 1);
  LinearWeight b = make_weight({"", DType::F32, WeightFormat::Int4}, 16, 2);
  LinearWeight c = make_weight({"", DType::BF16, WeightFormat::Float}, 16, 3);
  LinearWeight d = make_weight({"", DType::F16, WeightFormat::Float}, 16, 4);
  EXPECT_FALSE(concat_weight_rows({&a, &b}).defined()) << "int8 + int4";
  EXPECT_FALSE(concat_weight_rows({&c, &d}).defined()) << "bf16 + f16";
  EXPECT_FALSE(concat_weight_rows({&a, &c}).defined()) << "int8 + bf16";
  LinearWeight e = quantize_weight(dequantize_weight(b), WeightFormat::Int4, 64);
  EXPECT_FALSE(concat_weight_rows({&b, &e}).defined()) << "group sizes 128 and 64";

  // Act-order: equal perms fuse (and the perm is kept), different perms do not.
  std::vector<int32_t> order(kK);
  for (int64_t i = 0; i < kK; i++) order[i] = static_cast<int32_t>((i * 7) % kK);
  auto with_perm = [&](LinearWeight w, bool reversed) {
    w.perm = Tensor::empty_cpu(DType::I32, {kK});
    for (int64_t i = 0; i < kK; i++) w.perm.ptr<int32_t>()[i] = reversed ? order[kK - 1 - i] : order[i];
    return w;
  };
  LinearWeight p1 = with_perm(b, false), p2 = with_perm(make_weight({"", DType::F32, WeightFormat::Int4}, 16, 9), false);
  LinearWeight p3 = with_perm(p2, true);
  LinearWeight same = concat_weight_rows({&p1, &p2});
  ASSERT_TRUE(same.defined());
  EXPECT_TRUE(same.perm.defined());
  EXPECT_FALSE(concat_weight_rows({&p1, &p3}).defined());
  EXPECT_FALSE(concat_weight_rows({&p1, &b}).defined()) << "perm + none";
}

TEST(FusedWeight, BiasesAreUndefinedWhenNoPartHasOne) {
  Tensor none;
  EXPECT_FALSE(concat_biases({&none, &none}, {4, 4}).defined());
  std::vector<float> v = {1, 2, 3};
  Tensor b = test::make_tensor(DType::BF16, {3}, v);
  Tensor out = concat_biases({&none, &b}, {2, 3});
  ASSERT_EQ(out.numel(), 5);
  const float want[] = {0, 0, 1, 2, 3};
  for (int i = 0; i < 5; i++) EXPECT_EQ(out.ptr<float>()[i], want[i]);
  EXPECT_THROW(concat_biases({&b}, {4}), Error);
}

// ---- The decoder on fused weights against the decoder on the 7 separate projections.

std::vector<float> decode_logits(const ModelWeights& host, bool fuse, Backend& be) {
  ModelWeights dev = upload_weights(host, be, nullptr, nullptr, fuse);
  for (const LayerWeights& l : dev.layers) {
    EXPECT_EQ(l.qkv_proj.defined(), fuse);
    EXPECT_EQ(l.gate_up_proj.defined(), fuse);
    EXPECT_EQ(l.q_proj.defined(), !fuse);
    EXPECT_EQ(l.qkv_bias.defined(), fuse) << "the tiny checkpoint has q/k/v biases";
  }
  const ModelConfig& c = dev.config;
  auto comm = make_single_communicator();
  const int64_t block = 16;
  KvCache kv(be, c.num_hidden_layers, KvLayout{8, c.num_key_value_heads, block, c.head_dim}, DType::F32);
  Decoder dec(dev, be, *comm, kv);
  std::vector<float> all;
  auto step = [&](const ForwardBatch& b) {
    const float* logits = dec.forward(b, nullptr);
    all.insert(all.end(), logits, logits + b.logits_rows.size() * c.vocab_size);
  };
  // Sequence 0 (blocks 0, 1) prefills 5 tokens, sequence 1 (blocks 2, 3) 3; then two decode
  // steps: both sequences (t = 2), then sequence 0 alone (t = 1).
  ForwardBatch prefill;
  prefill.max_blocks_per_seq = 2;
  for (int32_t s = 0, start = 0; s < 2; s++) {
    const int32_t len = s == 0 ? 5 : 3;
    prefill.query_start.push_back(start);
    for (int32_t p = 0; p < len; p++) {
      prefill.token_ids.push_back((7 * p + 3 * s + 1) % static_cast<int32_t>(c.vocab_size));
      prefill.positions.push_back(p);
      prefill.slots.push_back(2 * s * block + p);
    }
    prefill.context_lens.push_back(len);
    prefill.block_tables.insert(prefill.block_tables.end(), {2 * s, 2 * s + 1});
    start += len;
    prefill.logits_rows.push_back(start - 1);
  }
  prefill.query_start.push_back(8);
  step(prefill);
  ForwardBatch both;
  both.max_blocks_per_seq = 2;
  both.token_ids = {11, 12};
  both.positions = {5, 3};
  both.slots = {5, 2 * block + 3};
  both.query_start = {0, 1, 2};
  both.context_lens = {6, 4};
  both.block_tables = {0, 1, 2, 3};
  both.logits_rows = {0, 1};
  step(both);
  ForwardBatch one;
  one.max_blocks_per_seq = 2;
  one.token_ids = {13};
  one.positions = {6};
  one.slots = {6};
  one.query_start = {0, 1};
  one.context_lens = {7};
  one.block_tables = {0, 1};
  one.logits_rows = {0};
  step(one);
  return all;
}

class FusedDecoder : public ::testing::TestWithParam<WeightFormat> {};

TEST_P(FusedDecoder, LogitsMatchTheUnfusedDecoder) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("tpserve-fused-test-" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  bench::TinyShape shape;
  shape.heads = 4, shape.kv_heads = 2, shape.head_dim = 32, shape.hidden = 128, shape.intermediate = 256;
  shape.vocab = 300;
  bench::write_tiny_checkpoint(dir, shape, 21);
  QuantizeOptions quantize;
  quantize.format = GetParam();
  quantize.group_size = 64;
  ModelWeights host = load_model_weights(dir, TensorParallel{}, nullptr, nullptr, quantize);
  std::filesystem::remove_all(dir);
  auto be = make_cpu_backend(2);
  // The bytes a step streams (what the engine reports) are the same fused or not.
  EXPECT_EQ(model_weight_bytes(upload_weights(host, *be, nullptr, nullptr, true)),
            model_weight_bytes(upload_weights(host, *be, nullptr, nullptr, false)));
  std::vector<float> fused = decode_logits(host, true, *be), apart = decode_logits(host, false, *be);
  ASSERT_EQ(fused.size(), apart.size());
  ASSERT_EQ(fused.size(), static_cast<size_t>(5 * shape.vocab));
  for (size_t i = 0; i < fused.size(); i++)
    ASSERT_NEAR(fused[i], apart[i], 1e-4f * (1.f + std::fabs(apart[i]))) << "logit " << i;
}

INSTANTIATE_TEST_SUITE_P(Formats, FusedDecoder,
                         ::testing::Values(WeightFormat::Float, WeightFormat::Int8, WeightFormat::Int4, WeightFormat::Fp8),
                         [](const auto& info) { return std::string(weight_format_name(info.param)); });

}  // namespace
}  // namespace tpserve
