// The int8 dot-product decode path of the quantized linear (AVX-512 VNNI): the per-block
// activation quantizer against hand-computed values, and linear_quantized() with int8 and int4
// weights on odd sizes against a double-precision dot product of x and W as this file decodes them
// from their definitions (quantize_activation.h, tpserve/linear_weight.h), and its error against
// the unquantized x. Skipped on CPUs without VNNI. Run: ctest -R 'Vnni|ActivationQuant'
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/cpu/linear_quantized.h"
#include "kernels/cpu/linear_vnni.h"
#include "kernels/cpu/quantize_activation.h"
#include "quant_dot_scope.h"
#include "test_util.h"
#include "tpserve/linear_weight_tiles.h"

namespace tpserve {
namespace {

TEST(ActivationQuant, BlocksOf128WithTheirScalesAndSums) {
  std::vector<float> x(130);
  for (int c = 0; c < 128; c++) x[c] = (c % 2 == 0 ? 1.f : -1.f) * static_cast<float>(c) / 127.f;  // max |x| = 1
  x[128] = 0.5f;
  x[129] = -2.f;
  cpu::QuantizedActivation q;
  cpu::quantize_activation(x.data(), 1, 130, cpu::ActLayout::Plain, q);
  ASSERT_EQ(q.blocks, 2);
  ASSERT_EQ(q.stride, 256);
  EXPECT_FLOAT_EQ(q.scales[0], 1.f / 127.f);
  for (int c = 0; c < 128; c++) EXPECT_EQ(q.q[c], (c % 2 == 0 ? 1 : -1) * c) << c;
  EXPECT_EQ(q.sums[0], -64);  // sum of (0 - 1) + (2 - 3) + ... + (126 - 127)
  EXPECT_FLOAT_EQ(q.scales[1], 2.f / 127.f);
  EXPECT_EQ(q.q[128], 32);  // 0.5 * 127 / 2 = 31.75 rounds to 32
  EXPECT_EQ(q.q[129], -127);
  EXPECT_EQ(q.q[130], 0);  // padding
  EXPECT_EQ(q.sums[1], 32 - 127);

  std::vector<float> z(256, 0.f);
  z[3] = 4.f;   // odd column 3 of block 0 -> byte 64 + 1
  z[130] = 2.f;  // even column 2 of block 1 -> byte 128 + 1
  cpu::quantize_activation(z.data(), 1, 256, cpu::ActLayout::EvenOdd, q);
  EXPECT_EQ(q.q[65], 127);
  EXPECT_EQ(q.q[129], 127);
  EXPECT_EQ(std::count(q.q.begin(), q.q.end(), 0), 254);
  EXPECT_THROW(cpu::quantize_activation(z.data(), 1, 200, cpu::ActLayout::EvenOdd, q), Error);
}

// W[r, c] as the format defines it (stored column order).
double decode(const LinearWeight& w, int64_t r, int64_t c) {
  const int64_t k = w.in_features();
  if (w.format == WeightFormat::Int8) return w.weight.ptr<int8_t>()[r * k + c] * static_cast<double>(w.scales.ptr<float>()[r]);
  const uint8_t b = w.weight.ptr<uint8_t>()[r * (k / 2) + c / 2];
  const int q = c % 2 == 0 ? (b & 15) : (b >> 4);
  const int64_t gi = r * (k / w.group_size) + c / w.group_size;
  return (q - static_cast<double>(w.zeros.ptr<float>()[gi])) * w.scales.ptr<float>()[gi];
}

// x as the int8 dot product sees it: per 128 columns, q = nearbyint(x * 127 / max|x|), times max|x| / 127.
std::vector<double> quantized_x(const std::vector<float>& x, int64_t m, int64_t k) {
  std::vector<double> out(x.size());
  for (int64_t i = 0; i < m; i++)
    for (int64_t b0 = 0; b0 < k; b0 += 128) {
      const int64_t b1 = std::min(k, b0 + 128);
      float amax = 0.f;
      for (int64_t c = b0; c < b1; c++) amax = std::max(amax, std::fabs(x[i * k + c]));
      for (int64_t c = b0; c < b1; c++)
        out[i * k + c] = amax == 0.f ? 0.0 : std::nearbyint(x[i * k + c] * (127.f / amax)) * static_cast<double>(amax / 127.f);
    }
  return out;
}

// y = xv . W^T + b in double; stored column c multiplies input column perm[c] (xv in stored order).
std::vector<double> reference(const std::vector<double>& xv, const LinearWeight& w, const std::vector<float>& b, int64_t m) {
  const int64_t n = w.out_features(), k = w.in_features();
  std::vector<double> y(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; i++)
    for (int64_t r = 0; r < n; r++) {
      double s = b[r];
      for (int64_t c = 0; c < k; c++) s += xv[i * k + c] * decode(w, r, c);
      y[i * n + r] = s;
    }
  return y;
}

struct Case {
  WeightFormat format;
  int64_t m, n, k, group;
  bool perm;
};

// tiled: the kernel gets w repacked into the CPU tiles (linear_vnni_tiles.h); the reference reads w.
void check(const Case& t, uint32_t seed, bool tiled) {
  auto wv = test::random_floats(static_cast<size_t>(t.n * t.k), seed);
  LinearWeight w = quantize_weight(test::make_tensor(DType::F32, {t.n, t.k}, wv), t.format, t.group);
  auto x = test::random_floats(static_cast<size_t>(t.m * t.k), seed + 1, -2.f, 3.f);
  std::vector<float> stored = x;  // x in the stored column order
  if (t.perm) {
    w.perm = Tensor::empty_cpu(DType::I32, {t.k});
    int32_t* p = w.perm.ptr<int32_t>();
    std::iota(p, p + t.k, 0);
    for (int64_t c = 0; c < t.k; c++) std::swap(p[c], p[(c * 7 + 3) % t.k]);
    for (int64_t i = 0; i < t.m; i++)
      for (int64_t c = 0; c < t.k; c++) stored[i * t.k + c] = x[i * t.k + p[c]];
  }
  auto bv = test::random_floats(static_cast<size_t>(t.n), seed + 2);
  Tensor b = test::make_tensor(DType::F32, {t.n}, bv);
  auto y = test::nan_filled(static_cast<size_t>(t.m * t.n));
  cpu::linear_quantized(x.data(), tiled ? tile_weight(w) : w, &b, t.m, y.data());
  const std::string label = std::string(tiled ? "tiled " : "") + weight_format_name(t.format) + " m=" + std::to_string(t.m) +
                            " n=" + std::to_string(t.n) + " k=" + std::to_string(t.k) + " perm=" + std::to_string(t.perm);
  // exactly the quantized x times W, up to float rounding
  EXPECT_LT(test::rel_error(y, reference(quantized_x(stored, t.m, t.k), w, bv, t.m)), 2e-5) << label;
  // and within the activation quantization's error of the unquantized x
  const double err = test::rel_error(y, reference(std::vector<double>(stored.begin(), stored.end()), w, bv, t.m));
  EXPECT_LT(err, 1e-2) << label;
  EXPECT_GT(err, 0.0) << label << ": x was not quantized";
}

const Case kCases[] = {
    {WeightFormat::Int8, 1, 37, 128, 0, false},   {WeightFormat::Int8, 1, 67, 300, 0, false},  // k tail of 44
    {WeightFormat::Int8, 3, 19, 200, 0, true},    {WeightFormat::Int8, 8, 33, 1000, 0, false},
    {WeightFormat::Int8, 40, 20, 64, 0, false},   {WeightFormat::Int8, 5, 9, 37, 0, false},
    {WeightFormat::Int4, 1, 37, 256, 128, false}, {WeightFormat::Int4, 5, 19, 384, 128, true},
    {WeightFormat::Int4, 13, 9, 128, 128, false}, {WeightFormat::Int4, 2, 11, 512, 256, false},
    {WeightFormat::Int4, 1, 300, 1024, 128, false}, {WeightFormat::Int4, 4, 16, 256, 128, false},
    {WeightFormat::Int8, 2, 48, 256, 0, false},
};

TEST(LinearVnni, Int8AndInt4MatchTheQuantizedActivationReference) {
  if (!cpu::has_avx512_vnni()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  test::IsaScope isa(cpu::Isa::Avx512);
  test::QuantDotScope dot("low");
  ASSERT_EQ(cpu::quantized_dot(), cpu::QuantizedDot::Low);
  uint32_t seed = 21;
  for (const Case& c : kCases) check(c, seed += 3, false);
}

TEST(LinearVnni, TiledInt8AndInt4MatchTheQuantizedActivationReference) {
  if (!cpu::has_avx512_vnni()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  test::IsaScope isa(cpu::Isa::Avx512);
  test::QuantDotScope dot("low");
  uint32_t seed = 51;
  for (const Case& c : kCases) check(c, seed += 3, true);
}

TEST(LinearVnni, SmallGroupsKeepTheFloatPath) {
  if (!cpu::has_avx512_vnni()) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  test::IsaScope isa(cpu::Isa::Avx512);
  test::QuantDotScope dot("low");
  // int4 in groups of 64 (not a multiple of 128): x stays fp32, so y matches the unquantized x tightly
  for (WeightFormat f : {WeightFormat::Int4}) {
    const int64_t n = 13, k = 256;
    auto wv = test::random_floats(static_cast<size_t>(n * k), 3);
    LinearWeight w = quantize_weight(test::make_tensor(DType::F32, {n, k}, wv), f, 64);
    auto x = test::random_floats(static_cast<size_t>(k), 4);
    std::vector<float> y(static_cast<size_t>(n)), bv(static_cast<size_t>(n), 0.f);
    cpu::linear_quantized(x.data(), w, nullptr, 1, y.data());
    Tensor deq = dequantize_weight(w);
    std::vector<double> want(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; r++)
      for (int64_t c = 0; c < k; c++) want[r] += x[c] * static_cast<double>(deq.ptr<float>()[r * k + c]);
    EXPECT_LT(test::rel_error(y, want), 2e-5) << weight_format_name(f);
  }
}

TEST(LinearVnni, UnknownDotSettingIsRefused) {
  test::QuantDotScope ok("float");
  setenv("TPSERVE_CPU_QUANT_DOT", "int3", 1);
  EXPECT_THROW(cpu::reload_quantized_dot(), Error);
}

}  // namespace
}  // namespace tpserve
