// BF16 weights in the CPU tile layout (tpserve/bf16_weight_tiles.h): the repack keeps every
// element and zero-pads (in whole groups of 4 tiles and a partial last group);
// linear_bf16_tiles() on every SIMD path, GEMV and GEMM sizes, odd shapes, with and without bias,
// against a double dot product of the original weight; its GEMM gives the bits of linear() on the
// row-major weight (same sums); bad weights are refused.
// Run: ctest -R Bf16Tiles
#include "kernels/cpu/linear_bf16_tiles.h"

#include <gtest/gtest.h>

#include <cstring>

#include "kernels/cpu/linear.h"
#include "test_util.h"
#include "tpserve/bf16_weight_tiles.h"

namespace tpserve {
namespace {

TEST(Bf16Tiles, RepackKeepsEveryElementAndPadsWithZeros) {
  for (auto [n, k] : {std::pair<int64_t, int64_t>{1, 1}, {16, 8}, {17, 9}, {53, 37}, {70, 300}, {130, 40}, {256, 9}}) {
    auto wv = test::random_floats(static_cast<size_t>(n * k), 3);
    Tensor w = test::make_tensor(DType::BF16, {n, k}, wv);
    LinearWeight t = tile_bf16_weight(w);
    ASSERT_EQ(t.out_features(), n);
    ASSERT_EQ(t.in_features(), k);
    ASSERT_EQ(t.weight.dim(0) % 16, 0);
    ASSERT_EQ(t.weight.dim(1), bf16_tile_columns(k));
    ASSERT_EQ(t.weight.dim(1) % kBf16TileColumnBlock, 0);
    for (int64_t r = 0; r < n; r++)
      for (int64_t c = 0; c < k; c++) ASSERT_EQ(tiled_bf16(t, r, c), w.ptr<uint16_t>()[r * k + c]) << r << "," << c;
    // everything that is not an element is zero: the element count equals the nonzero-or-element count
    int64_t nonzero = 0;
    for (int64_t i = 0; i < t.weight.numel(); i++) nonzero += t.weight.ptr<uint16_t>()[i] != 0;
    int64_t nonzero_elements = 0;
    for (int64_t i = 0; i < n * k; i++) nonzero_elements += w.ptr<uint16_t>()[i] != 0;
    EXPECT_EQ(nonzero, nonzero_elements) << n << "x" << k;
    EXPECT_THROW(tiled_bf16(t, n, 0), Error);
  }
  auto fv = test::random_floats(6, 1);
  EXPECT_THROW(tile_bf16_weight(test::make_tensor(DType::F32, {2, 3}, fv)), Error);
}

TEST(Bf16Tiles, MatchesReferenceOnEveryPathShapeAndSize) {
  struct Shape { int64_t m, n, k; };
  const Shape shapes[] = {{1, 53, 37}, {2, 53, 37}, {3, 17, 64}, {5, 16, 8}, {7, 70, 300}, {8, 33, 129}, {33, 53, 37},
                          {40, 11, 19}, {41, 53, 37}, {57, 70, 300}, {200, 33, 129}, {1, 1, 1}, {64, 300, 530},
                          {1, 300, 530}, {1, 256, 64}, {3, 130, 40}, {1, 1100, 72}};
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (const Shape& s : shapes)
      for (bool with_bias : {false, true}) {
        auto x = test::random_floats(static_cast<size_t>(s.m * s.k), 5);
        auto wv = test::random_floats(static_cast<size_t>(s.n * s.k), 6);
        auto bv = test::random_floats(static_cast<size_t>(s.n), 7);
        Tensor w = test::make_tensor(DType::BF16, {s.n, s.k}, wv);  // rounds wv to bf16
        Tensor b = test::make_tensor(DType::F32, {s.n}, bv);
        auto y = test::nan_filled(static_cast<size_t>(s.m * s.n));
        cpu::linear_bf16_tiles(x.data(), tile_bf16_weight(w), with_bias ? &b : nullptr, s.m, y.data());
        EXPECT_LT(test::rel_error(y, test::linear_reference(x, wv, with_bias ? &bv : nullptr, s.m, s.n, s.k)), 1e-5)
            << cpu::isa_name(isa) << " m=" << s.m << " n=" << s.n << " k=" << s.k << " bias=" << with_bias;
      }
  }
}

// Above the GEMV cut-off both layouts run the same blocked GEMM on the same fp32 panels.
TEST(Bf16Tiles, GemmGivesTheRowMajorBits) {
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    const int64_t m = 57, n = 300, k = 530;
    auto x = test::random_floats(static_cast<size_t>(m * k), 8);
    auto wv = test::random_floats(static_cast<size_t>(n * k), 9);
    Tensor w = test::make_tensor(DType::BF16, {n, k}, wv);
    std::vector<float> rm(static_cast<size_t>(m * n)), tiled(rm.size());
    setenv("TPSERVE_CPU_GEMM", "builtin", 1);
    cpu::linear(x.data(), w, nullptr, m, rm.data());
    unsetenv("TPSERVE_CPU_GEMM");
    cpu::linear_bf16_tiles(x.data(), tile_bf16_weight(w), nullptr, m, tiled.data());
    EXPECT_EQ(std::memcmp(rm.data(), tiled.data(), rm.size() * 4), 0) << cpu::isa_name(isa);
  }
}

TEST(Bf16Tiles, RefusesWhatIsNotATiledWeight) {
  auto wv = test::random_floats(6, 1);
  Tensor w = test::make_tensor(DType::BF16, {2, 3}, wv);
  std::vector<float> x(3, 1.f), y(2);
  EXPECT_THROW(cpu::linear_bf16_tiles(x.data(), LinearWeight(w), nullptr, 1, y.data()), Error);  // row-major
  LinearWeight t = tile_bf16_weight(w);
  auto bv = test::random_floats(3, 2);
  Tensor bad_bias = test::make_tensor(DType::F32, {3}, bv);
  EXPECT_THROW(cpu::linear_bf16_tiles(x.data(), t, &bad_bias, 1, y.data()), Error);
  LinearWeight wrong = t;
  wrong.cols = 4;  // the tile tensor holds 3 columns padded to 8: 4 fits the padding but not the shape check
  wrong.rows = 17;
  EXPECT_THROW(cpu::linear_bf16_tiles(x.data(), wrong, nullptr, 1, y.data()), Error);
  EXPECT_NO_THROW(cpu::linear_bf16_tiles(x.data(), t, nullptr, 1, y.data()));
}

}  // namespace
}  // namespace tpserve
