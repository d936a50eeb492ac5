// batch_invariant (EngineOptions::batch_invariant): a token's row of linear() / linear_quantized()
// and paged_attention() is the same bits whatever else the call holds. Each row of a 57-row call
// (past the GEMV cut-off) equals the row computed alone and inside a 3-row call, for every SIMD
// path, float dtype (BF16 row-major and tiled) and quantized format; a prefill chunk's attention rows equal the same
// queries sent as decode tokens, alone or beside other sequences. Run: ctest -R BatchInvariance
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/linear_quantized.h"
#include "quant_dot_scope.h"
#include "test_util.h"
#include "tpserve/bf16_weight_tiles.h"

namespace tpserve {
namespace {

constexpr int64_t kRows = 57, kN = 70;

bool same_bits(const float* a, const float* b, int64_t n) { return std::memcmp(a, b, static_cast<size_t>(n) * 4) == 0; }

// Rows of one kRows-row call against row i alone and rows [3, 6) as their own call.
void expect_rows_invariant(const std::function<void(const float*, int64_t, float*)>& linear, int64_t k,
                           const std::string& what) {
  auto x = test::random_floats(static_cast<size_t>(kRows * k), 5);
  std::vector<float> all(static_cast<size_t>(kRows * kN)), one(kN), three(3 * kN);
  linear(x.data(), kRows, all.data());
  for (int64_t i = 0; i < kRows; i++) {
    linear(x.data() + i * k, 1, one.data());
    EXPECT_TRUE(same_bits(one.data(), all.data() + i * kN, kN)) << what << ": row " << i << " alone";
  }
  linear(x.data() + 3 * k, 3, three.data());
  EXPECT_TRUE(same_bits(three.data(), all.data() + 3 * kN, 3 * kN)) << what << ": rows 3..5 as a call of 3";
}

TEST(BatchInvariance, FloatLinearRowsOnEveryPathAndDtype) {
  const int64_t k = 300;  // not a multiple of any vector width: the tails count too
  auto wv = test::random_floats(static_cast<size_t>(kN * k), 7);
  auto bv = test::random_floats(kN, 8);
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (DType dt : test::all_dtypes()) {
      Tensor w = test::make_tensor(dt, {kN, k}, wv), b = test::make_tensor(dt, {kN}, bv);
      expect_rows_invariant([&](const float* x, int64_t m, float* y) { cpu::linear(x, w, &b, m, y, true); }, k,
                            std::string(cpu::isa_name(isa)) + " " + dtype_name(dt));
      if (dt != DType::BF16) continue;
      const LinearWeight tiled = tile_bf16_weight(w);  // the CPU backend's layout of BF16 weights
      expect_rows_invariant([&](const float* x, int64_t m, float* y) { cpu::linear_any(x, tiled, &b, m, y, true); }, k,
                            std::string(cpu::isa_name(isa)) + " tiled bf16");
    }
  }
}

TEST(BatchInvariance, QuantizedLinearRowsOnEveryFormatLayoutAndDot) {
  const int64_t k = 256;  // groups of 128: the VNNI int4 path applies
  auto wv = test::random_floats(static_cast<size_t>(kN * k), 9);
  for (const char* dot : {"low", "float"}) {
    test::QuantDotScope dot_scope(dot);
    for (cpu::Isa isa : test::available_isas()) {
      test::IsaScope scope(isa);
      for (WeightFormat f : {WeightFormat::Int8, WeightFormat::Int4, WeightFormat::Fp8}) {
        const LinearWeight plain = quantize_weight(test::make_tensor(DType::F32, {kN, k}, wv), f, 128);
        for (const LinearWeight& w : {plain, cpu::cpu_weight_layout(plain)}) {
          expect_rows_invariant([&](const float* x, int64_t m, float* y) { cpu::linear_quantized(x, w, nullptr, m, y, true); },
                                k, std::string(dot) + " " + cpu::isa_name(isa) + " format " + std::to_string(static_cast<int>(f)) +
                                       (w.tile_rows ? " tiled" : " row-major"));
        }
      }
    }
  }
}

// A weight tiled for the VNNI path, then multiplied with the float dot (the dequantize-to-panels
// fallback): still one row's bits whatever the call holds.
TEST(BatchInvariance, TiledQuantizedWeightOnTheFloatFallback) {
  const int64_t k = 256;
  auto wv = test::random_floats(static_cast<size_t>(kN * k), 10);
  for (WeightFormat f : {WeightFormat::Int8, WeightFormat::Int4}) {
    LinearWeight tiled;
    {
      test::QuantDotScope low("low");
      tiled = cpu::cpu_weight_layout(quantize_weight(test::make_tensor(DType::F32, {kN, k}, wv), f, 128));
    }
    test::QuantDotScope fallback("float");
    expect_rows_invariant([&](const float* x, int64_t m, float* y) { cpu::linear_quantized(x, tiled, nullptr, m, y, true); }, k,
                          "format " + std::to_string(static_cast<int>(f)) + (tiled.tile_rows ? " tiled" : " row-major") + " on the float dot");
  }
}

// One sequence's K/V (ctx tokens) in a paged f32 or bf16 cache; its queries at every position.
struct AttentionFixture {
  static constexpr int64_t H = 8, KH = 2, D = 64, bs = 16, ctx = 150;
  DType dtype;
  std::vector<uint8_t> kc, vc;
  std::vector<int32_t> table;
  std::vector<float> q;  // [ctx, H, D]
  KvLayout layout{(ctx + bs - 1) / bs, KH, bs, D};

  explicit AttentionFixture(DType dt) : dtype(dt) {
    const size_t elems = static_cast<size_t>(layout.num_blocks * KH * bs * D);
    auto k = test::random_floats(elems, 11, -2.f, 2.f), v = test::random_floats(elems, 12);
    kc.resize(elems * dtype_size(dt));
    vc.resize(kc.size());
    for (size_t i = 0; i < elems; i++) {
      if (dt == DType::F32) {
        std::memcpy(kc.data() + i * 4, &k[i], 4);
        std::memcpy(vc.data() + i * 4, &v[i], 4);
      } else {
        const uint16_t hk = float_to_bf16(k[i]), hv = float_to_bf16(v[i]);
        std::memcpy(kc.data() + i * 2, &hk, 2);
        std::memcpy(vc.data() + i * 2, &hv, 2);
      }
    }
    table.resize(static_cast<size_t>(layout.num_blocks));
    std::iota(table.begin(), table.end(), 0);
    q = test::random_floats(static_cast<size_t>(ctx * H * D), 13);
  }

  // Attention of the given sequences, each (first query position, number of queries): all of
  // them share this one K/V, each with its own block table row.
  std::vector<float> run(const std::vector<std::pair<int32_t, int32_t>>& seqs) {
    std::vector<int32_t> query_start{0}, ctx_lens, tables;
    std::vector<float> qs;
    for (auto [first, n] : seqs) {
      query_start.push_back(query_start.back() + n);
      ctx_lens.push_back(first + n);
      tables.insert(tables.end(), table.begin(), table.end());
      qs.insert(qs.end(), q.begin() + first * H * D, q.begin() + (first + n) * H * D);
    }
    AttentionBatch batch{static_cast<int64_t>(seqs.size()), query_start.data(), ctx_lens.data(), tables.data(),
                         layout.num_blocks};
    std::vector<float> out(qs.size());
    cpu::paged_attention(qs.data(), kc.data(), vc.data(), dtype, batch, layout, H, 0.125f, out.data(), true);
    return out;
  }
};

TEST(BatchInvariance, AttentionDecodeTokensEqualTheirPrefillRows) {
  const int64_t row = AttentionFixture::H * AttentionFixture::D;
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (DType dt : {DType::F32, DType::BF16}) {
      AttentionFixture f(dt);
      const std::vector<float> prefill = f.run({{0, static_cast<int32_t>(AttentionFixture::ctx)}});
      for (int32_t pos : {0, 15, 16, 63, 100, 149}) {
        const std::vector<float> alone = f.run({{pos, 1}});
        EXPECT_TRUE(same_bits(alone.data(), prefill.data() + pos * row, row)) << cpu::isa_name(isa) << " " << dtype_name(dt) << " decode at " << pos;
      }
      // a decode token beside another sequence's chunk and another decode
      const std::vector<float> mixed = f.run({{40, 30}, {120, 1}, {7, 1}});
      EXPECT_TRUE(same_bits(mixed.data(), prefill.data() + 40 * row, 30 * row)) << cpu::isa_name(isa) << " chunk 40..69";
      EXPECT_TRUE(same_bits(mixed.data() + 30 * row, prefill.data() + 120 * row, row)) << cpu::isa_name(isa) << " decode at 120";
      EXPECT_TRUE(same_bits(mixed.data() + 31 * row, prefill.data() + 7 * row, row)) << cpu::isa_name(isa) << " decode at 7";
    }
  }
}

}  // namespace
}  // namespace tpserve
