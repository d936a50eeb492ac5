// The bf16 dot-product decode path of fp8 weights (AVX512-BF16): the activation layout, and
// linear_quantized() on odd sizes against a double-precision dot product of x rounded to bf16 and
// W decoded here from the e4m3 definition. Skipped on CPUs without AVX512-BF16.
// Run: ctest -R 'Fp8Bf16'
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/cpu/linear_fp8_bf16.h"
#include "kernels/cpu/linear_quantized.h"
#include "quant_dot_scope.h"
#include "test_util.h"

namespace tpserve {
namespace {

double e4m3(uint8_t v) {
  const int e = (v >> 3) & 15, m = v & 7;
  const double mag = e == 0 ? m * std::pow(2.0, -9) : (1.0 + m / 8.0) * std::pow(2.0, e - 7);
  return (v & 0x80) ? -mag : mag;
}

TEST(Fp8Bf16, ActivationLayoutFollowsTheUnpackOrder) {
  std::vector<float> x(70);
  for (int c = 0; c < 70; c++) x[c] = static_cast<float>(c);  // small integers: exact in bf16
  cpu::Bf16Activation a;
  cpu::bf16_activation(x.data(), 1, 70, a);
  ASSERT_EQ(a.stride, 128);
  auto at = [&](int s) { return bf16_to_float(a.v[s]); };
  EXPECT_EQ(at(0), 0.f);
  EXPECT_EQ(at(7), 7.f);
  EXPECT_EQ(at(8), 16.f);   // second 128-bit lane of the low unpack
  EXPECT_EQ(at(31), 55.f);
  EXPECT_EQ(at(32), 8.f);   // the high unpack
  EXPECT_EQ(at(63), 63.f);
  EXPECT_EQ(at(64), 64.f);
  EXPECT_EQ(at(69), 69.f);
  EXPECT_EQ(at(70), 0.f);   // slot 6 of the second chunk: column 70, past k
  EXPECT_EQ(at(72), 0.f);   // slot 8: column 80
}

TEST(Fp8Bf16, MatchesTheBf16ActivationReference) {
  if (!cpu::has_avx512_bf16()) GTEST_SKIP() << "no AVX512-BF16 / VBMI on this CPU";
  test::IsaScope isa(cpu::Isa::Avx512);
  test::QuantDotScope dot("low");
  struct Shape {
    int64_t m, n, k;
  };
  for (const Shape& s : {Shape{1, 37, 128}, Shape{1, 67, 300}, Shape{3, 19, 200}, Shape{8, 33, 1000}, Shape{5, 9, 37},
                         Shape{40, 20, 64}}) {
    auto wv = test::random_floats(static_cast<size_t>(s.n * s.k), 31, -3.f, 2.f);
    wv[5] = 1e-4f;  // an e4m3 subnormal after scaling
    LinearWeight w = quantize_weight(test::make_tensor(DType::F32, {s.n, s.k}, wv), WeightFormat::Fp8);
    auto x = test::random_floats(static_cast<size_t>(s.m * s.k), 32, -2.f, 3.f);
    auto bv = test::random_floats(static_cast<size_t>(s.n), 33);
    Tensor b = test::make_tensor(DType::F32, {s.n}, bv);
    auto y = test::nan_filled(static_cast<size_t>(s.m * s.n));
    cpu::linear_quantized(x.data(), w, &b, s.m, y.data());
    std::vector<double> want(y.size()), exact(y.size());
    for (int64_t i = 0; i < s.m; i++)
      for (int64_t r = 0; r < s.n; r++) {
        double acc = bv[r], acc_exact = bv[r];
        for (int64_t c = 0; c < s.k; c++) {
          const double wq = e4m3(w.weight.ptr<uint8_t>()[r * s.k + c]) * w.scales.ptr<float>()[r];
          acc += wq * test::round_to(DType::BF16, x[i * s.k + c]);
          acc_exact += wq * x[i * s.k + c];
        }
        want[i * s.n + r] = acc;
        exact[i * s.n + r] = acc_exact;
      }
    const std::string label = "m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) + " k=" + std::to_string(s.k);
    EXPECT_LT(test::rel_error(y, want), 2e-5) << label;
    EXPECT_LT(test::rel_error(y, exact), 1e-2) << label;
  }
}

}  // namespace
}  // namespace tpserve
