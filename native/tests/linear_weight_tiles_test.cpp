// The CPU tile layout of Int8 / Int4 weights (tpserve/linear_weight_tiles.h) on odd sizes: the
// semantic accessors of a tiled weight equal the row-major weight's exactly, its fp32 panels
// (kernels/cpu/dequantize_tiles.h, AVX-512 and portable) equal dequantize_rows() of the row-major
// weight bit for bit, the prefill path and the fp32 fallback on a tiled weight give the row-major
// weight's results, what cannot be tiled or sliced again is refused, and the CPU backend's layout
// (cpu_weight_layout) tiles exactly where the VNNI path takes the weight. The VNNI decode kernels on
// tiles: linear_vnni_test.cpp. Run: ctest -R WeightTiles
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/cpu/cpu_isa.h"
#include "kernels/cpu/dequantize_tiles.h"
#include "kernels/cpu/linear_quantized.h"
#include "kernels/cpu/linear_vnni.h"
#include "quant_dot_scope.h"
#include "test_util.h"
#include "tpserve/linear_weight_tiles.h"

namespace tpserve {
namespace {

struct Shape {
  WeightFormat format;
  int64_t n, k, group;
};

const Shape kShapes[] = {{WeightFormat::Int8, 37, 300, 0},  {WeightFormat::Int8, 16, 37, 0},
                         {WeightFormat::Int8, 5, 1024, 0},  {WeightFormat::Int4, 21, 256, 128},
                         {WeightFormat::Int4, 48, 512, 256}, {WeightFormat::Int4, 3, 128, 128}};

LinearWeight random_weight(const Shape& s, uint32_t seed) {
  auto wv = test::random_floats(static_cast<size_t>(s.n * s.k), seed);
  return quantize_weight(test::make_tensor(DType::F32, {s.n, s.k}, wv), s.format, s.group ? s.group : 128);
}

std::string label(const Shape& s) {
  return std::string(weight_format_name(s.format)) + " " + std::to_string(s.n) + "x" + std::to_string(s.k);
}

TEST(WeightTiles, AccessorsEqualTheRowMajorWeight) {
  uint32_t seed = 3;
  for (const Shape& s : kShapes) {
    const LinearWeight w = random_weight(s, seed++);
    ASSERT_TRUE(can_tile_weight(w));
    const LinearWeight t = tile_weight(w);
    EXPECT_EQ(t.tile_rows, kWeightTileRows);
    EXPECT_EQ(t.out_features(), s.n);
    EXPECT_EQ(t.weight.dim(0) % kWeightTileRows, 0);
    const int64_t ng = num_weight_groups(w);
    std::vector<uint8_t> a(static_cast<size_t>(s.n * s.k)), b(a.size());
    quantized_codes(w, 0, s.n, a.data());
    quantized_codes(t, 0, s.n, b.data());
    EXPECT_EQ(a, b) << label(s);
    std::vector<float> sa(static_cast<size_t>(s.n * ng)), za(sa.size()), sb(sa.size()), zb(sa.size());
    quantized_params(w, 0, s.n, sa.data(), za.data());
    quantized_params(t, 0, s.n, sb.data(), zb.data());
    EXPECT_EQ(sa, sb) << label(s);
    EXPECT_EQ(za, zb) << label(s);
    Tensor da = dequantize_weight(w), db = dequantize_weight(t);
    EXPECT_EQ(0, std::memcmp(da.data(), db.data(), da.nbytes())) << label(s);
  }
}

TEST(WeightTiles, PanelsEqualDequantizeRowsOnEveryIsa) {
  uint32_t seed = 11;
  for (cpu::Isa isa : {cpu::Isa::Avx512, cpu::Isa::Portable}) {
    if (isa > cpu::hardware_isa()) continue;
    test::IsaScope scope(isa);
    for (const Shape& s : kShapes) {
      const LinearWeight w = random_weight(s, seed++);
      const LinearWeight t = tile_weight(w);
      const int64_t r0 = s.n > 16 ? 16 : 0;  // a panel starting at the second tile
      std::vector<float> want(static_cast<size_t>((s.n - r0) * s.k)), got = test::nan_filled(want.size());
      dequantize_rows(w, r0, s.n, want.data());
      cpu::dequantize_tile_rows(t, r0, s.n, got.data());
      EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)))
          << label(s) << " " << cpu::isa_name(isa);
    }
  }
}

// linear_quantized on the tiled weight against the row-major weight through the same fp32 path:
// prefill (m > 40) and TPSERVE_CPU_QUANT_DOT=float after the load.
TEST(WeightTiles, PrefillAndFloatFallbackMatchTheRowMajorWeight) {
  uint32_t seed = 31;
  for (const Shape& s : kShapes) {
    const LinearWeight w = random_weight(s, seed++);
    const LinearWeight t = tile_weight(w);
    for (int64_t m : {int64_t{1}, int64_t{7}, int64_t{45}}) {
      test::QuantDotScope dot("float");
      auto x = test::random_floats(static_cast<size_t>(m * s.k), seed + 100, -2.f, 2.f);
      auto bv = test::random_floats(static_cast<size_t>(s.n), seed + 200);
      Tensor b = test::make_tensor(DType::F32, {s.n}, bv);
      Tensor deq = dequantize_weight(w);
      std::vector<double> want(static_cast<size_t>(m * s.n));
      for (int64_t i = 0; i < m; i++)
        for (int64_t r = 0; r < s.n; r++) {
          double acc = bv[r];
          for (int64_t c = 0; c < s.k; c++) acc += x[i * s.k + c] * static_cast<double>(deq.ptr<float>()[r * s.k + c]);
          want[i * s.n + r] = acc;
        }
      auto y = test::nan_filled(want.size());
      cpu::linear_quantized(x.data(), t, &b, m, y.data());
      EXPECT_LT(test::rel_error(y, want), 1e-5) << label(s) << " m=" << m;
    }
  }
}

TEST(WeightTiles, RefusesWhatHasNoTilesAndSlicesOfTiles) {
  auto wv = test::random_floats(32 * 256, 5);
  Tensor f = test::make_tensor(DType::F32, {32, 256}, wv);
  EXPECT_FALSE(can_tile_weight(quantize_weight(f, WeightFormat::Int4, 64)));
  EXPECT_FALSE(can_tile_weight(quantize_weight(f, WeightFormat::Fp8)));
  EXPECT_FALSE(can_tile_weight(LinearWeight(f)));
  EXPECT_THROW(tile_weight(quantize_weight(f, WeightFormat::Fp8)), Error);
  const LinearWeight t = tile_weight(quantize_weight(f, WeightFormat::Int8));
  EXPECT_FALSE(can_tile_weight(t));
  EXPECT_THROW(slice_weight_rows(t, 0, 16), Error);
  EXPECT_THROW(slice_weight_columns(t, 0, 128), Error);
}

// Int4 tiles hold scales and zero points in f16: the quantizer gives f16 values (so the tiles
// lose nothing: AccessorsEqualTheRowMajorWeight), and a weight whose scales are not f16 values
// (a GPTQ checkpoint with f32 scales) keeps the row-major layout and still computes.
TEST(WeightTiles, Int4ParamsInF16OrTheRowLayout) {
  auto wv = test::random_floats(32 * 256, 13);
  for (float& v : wv) v *= 1e-6f;  // tiny weights: scales in the f16 subnormal range
  const LinearWeight w = quantize_weight(test::make_tensor(DType::F32, {32, 256}, wv), WeightFormat::Int4, 128);
  for (int64_t i = 0; i < w.scales.numel(); i++) {
    const float s = w.scales.ptr<const float>()[i];
    EXPECT_GT(s, 0.f);
    EXPECT_EQ(f16_to_float(float_to_f16(s)), s) << "scale " << i;
  }
  ASSERT_TRUE(can_tile_weight(w));
  EXPECT_EQ(tile_weight(w).scales.dtype(), DType::F16);
  auto ov = test::random_floats(32 * 256, 14);
  LinearWeight odd = quantize_weight(test::make_tensor(DType::F32, {32, 256}, ov), WeightFormat::Int4, 128);
  odd.scales.ptr<float>()[5] = std::nextafter(odd.scales.ptr<float>()[5], 1.f);  // no longer an f16 value
  EXPECT_FALSE(can_tile_weight(odd));
  EXPECT_THROW(tile_weight(odd), Error);
  const LinearWeight kept = cpu::cpu_weight_layout(odd);
  EXPECT_EQ(kept.tile_rows, 0);
  const auto x = test::random_floats(256, 15);
  const Tensor d = dequantize_weight(odd);
  std::vector<double> want(32, 0.0);
  for (int64_t r = 0; r < 32; r++)
    for (int64_t c = 0; c < 256; c++) want[r] += static_cast<double>(d.ptr<const float>()[r * 256 + c]) * x[c];
  auto y = test::nan_filled(32);
  cpu::linear_quantized(x.data(), kept, nullptr, 1, y.data());  // int8 activations where VNNI is
  EXPECT_LT(test::rel_error(y, want), 1e-2);
  test::QuantDotScope dot("float");
  y = test::nan_filled(32);
  cpu::linear_quantized(x.data(), kept, nullptr, 1, y.data());
  EXPECT_LT(test::rel_error(y, want), 1e-5);
}

TEST(WeightTiles, TheCpuLayoutTilesWhereTheVnniPathTakesTheWeight) {
  auto wv = test::random_floats(32 * 256, 9);
  Tensor f = test::make_tensor(DType::F32, {32, 256}, wv);
  const LinearWeight i8 = quantize_weight(f, WeightFormat::Int8), i4 = quantize_weight(f, WeightFormat::Int4, 128);
  EXPECT_EQ(cpu::cpu_weight_layout(quantize_weight(f, WeightFormat::Fp8)).tile_rows, 0);
  EXPECT_EQ(cpu::cpu_weight_layout(quantize_weight(f, WeightFormat::Int4, 64)).tile_rows, 0);
  {
    test::IsaScope isa(cpu::Isa::Portable);
    EXPECT_EQ(cpu::cpu_weight_layout(i8).tile_rows, 0);
  }
  {
    test::QuantDotScope dot("float");
    EXPECT_EQ(cpu::cpu_weight_layout(i4).tile_rows, 0);
  }
  if (!cpu::has_avx512_vnni() || cpu::hardware_isa() != cpu::Isa::Avx512) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  test::IsaScope isa(cpu::Isa::Avx512);
  test::QuantDotScope dot("low");
  EXPECT_EQ(cpu::cpu_weight_layout(i8).tile_rows, kWeightTileRows);
  EXPECT_EQ(cpu::cpu_weight_layout(i4).tile_rows, kWeightTileRows);
}

}  // namespace
}  // namespace tpserve
