// Quantized weights: the fp8 e4m3 code table, quantize/dequantize round trips, the tensor-parallel
// slices, and linear_quantized() on every SIMD path against a double-precision dot product with
// weights decoded here from the format's definition (linear_weight.h), not by the library.
// Run: ctest -R 'Quantiz'
#include "kernels/cpu/linear_quantized.h"

#include "kernels/cpu/linear.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "quant_dot_scope.h"
#include "test_util.h"

namespace tpserve {
namespace {

// W[r, c] as the format defines it.
double decode(const LinearWeight& w, int64_t r, int64_t c) {
  const int64_t k = w.in_features();
  switch (w.format) {
    case WeightFormat::Int8: return w.weight.ptr<int8_t>()[r * k + c] * static_cast<double>(w.scales.ptr<float>()[r]);
    case WeightFormat::Fp8: {
      const uint8_t v = w.weight.ptr<uint8_t>()[r * k + c];
      const int e = (v >> 3) & 15, m = v & 7;
      const double mag = e == 0 ? m * std::pow(2.0, -9) : (1.0 + m / 8.0) * std::pow(2.0, e - 7);
      return ((v & 0x80) ? -mag : mag) * w.scales.ptr<float>()[r];
    }
    case WeightFormat::Int4: {
      const uint8_t b = w.weight.ptr<uint8_t>()[r * (k / 2) + c / 2];
      const int q = c % 2 == 0 ? (b & 15) : (b >> 4);
      const int64_t gi = r * (k / w.group_size) + c / w.group_size;
      return (q - static_cast<double>(w.zeros.ptr<float>()[gi])) * w.scales.ptr<float>()[gi];
    }
    case WeightFormat::Float: break;
  }
  return load_as_float(w.weight.data(), w.weight.dtype(), static_cast<size_t>(r * k + c));
}

// y = x . W^T + b in double; stored column c multiplies x[perm[c]].
std::vector<double> reference(const std::vector<float>& x, const LinearWeight& w, const std::vector<float>* b,
                              int64_t m) {
  const int64_t n = w.out_features(), k = w.in_features();
  const int32_t* perm = w.perm.defined() ? w.perm.ptr<int32_t>() : nullptr;
  std::vector<double> y(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; i++)
    for (int64_t r = 0; r < n; r++) {
      double s = b ? (*b)[r] : 0.0;
      for (int64_t c = 0; c < k; c++) s += x[i * k + (perm ? perm[c] : c)] * decode(w, r, c);
      y[i * n + r] = s;
    }
  return y;
}

LinearWeight random_quantized(WeightFormat f, int64_t n, int64_t k, uint32_t seed) {
  auto wv = test::random_floats(static_cast<size_t>(n * k), seed);
  return quantize_weight(test::make_tensor(DType::F32, {n, k}, wv), f, 64);
}

TEST(QuantizedFp8, EveryCodeRoundTrips) {
  for (int v = 0; v < 256; v++) {
    if ((v & 0x7f) == 0x7f) {
      EXPECT_TRUE(std::isnan(fp8_e4m3_to_float(static_cast<uint8_t>(v))));
      continue;
    }
    const float f = fp8_e4m3_to_float(static_cast<uint8_t>(v));
    EXPECT_EQ(float_to_fp8_e4m3(f), v == 0x80 ? 0x80 : v) << "code " << v << " value " << f;
  }
  EXPECT_EQ(fp8_e4m3_to_float(0x7e), 448.f);
  EXPECT_EQ(float_to_fp8_e4m3(1e6f), 0x7e);     // saturates
  EXPECT_EQ(float_to_fp8_e4m3(1.0625f), 0x38);  // halfway between 1 and 1.125: to even (1)
  EXPECT_EQ(float_to_fp8_e4m3(1.1875f), 0x3a);  // halfway between 1.125 and 1.25: to even (1.25)
}

TEST(QuantizeWeight, RoundTripsWithinHalfAStep) {
  const int64_t n = 9, k = 256;
  auto wv = test::random_floats(static_cast<size_t>(n * k), 5, -2.f, 3.f);
  wv[3] = 0.f;
  Tensor w = test::make_tensor(DType::F32, {n, k}, wv);
  for (WeightFormat f : {WeightFormat::Int8, WeightFormat::Int4, WeightFormat::Fp8}) {
    LinearWeight q = quantize_weight(w, f, 128);
    Tensor back = dequantize_weight(q);
    for (int64_t r = 0; r < n; r++)
      for (int64_t c = 0; c < k; c++) {
        const double want = wv[r * k + c], got = back.ptr<float>()[r * k + c];
        EXPECT_NEAR(got, decode(q, r, c), 1e-6) << weight_format_name(f);
        double bound = 0;
        if (f == WeightFormat::Int8) bound = q.scales.ptr<float>()[r] * 0.5;
        if (f == WeightFormat::Int4) bound = q.scales.ptr<float>()[r * 2 + c / 128] * 0.5;
        if (f == WeightFormat::Fp8) bound = std::max(std::fabs(want) / 16, q.scales.ptr<float>()[r] * std::pow(2.0, -10));
        EXPECT_LE(std::fabs(got - want), bound * 1.0001 + 1e-7) << weight_format_name(f) << " r=" << r << " c=" << c;
      }
    EXPECT_EQ(back.ptr<float>()[3], 0.f) << weight_format_name(f) << ": zero stays exact";
  }
  EXPECT_THROW(quantize_weight(w, WeightFormat::Int4, 96), Error);  // 256 is not a multiple of 96
  EXPECT_THROW(parse_quantization("int3"), Error);
}

TEST(QuantizeWeight, TensorParallelSlicesKeepTheirScales) {
  LinearWeight q = random_quantized(WeightFormat::Int4, 6, 256, 9);
  LinearWeight cols = slice_weight_columns(q, 128, 128);
  LinearWeight rows = slice_weight_rows(q, 2, 3);
  for (int64_t r = 0; r < 6; r++)
    for (int64_t c = 0; c < 128; c++) EXPECT_EQ(decode(cols, r, c), decode(q, r, c + 128));
  for (int64_t r = 0; r < 3; r++)
    for (int64_t c = 0; c < 256; c++) EXPECT_EQ(decode(rows, r, c), decode(q, r + 2, c));
}

TEST(QuantizeWeight, SplitInsideAGroupIsRefused) {
  LinearWeight q = random_quantized(WeightFormat::Int4, 2, 256, 3);  // group 64
  EXPECT_NO_THROW(slice_weight_columns(q, 64, 128));
  EXPECT_THROW(slice_weight_columns(q, 32, 128), Error);
  LinearWeight q8 = random_quantized(WeightFormat::Int8, 4, 100, 3);
  LinearWeight c8 = slice_weight_columns(q8, 30, 40);
  for (int64_t r = 0; r < 4; r++)
    for (int64_t c = 0; c < 40; c++) EXPECT_EQ(decode(c8, r, c), decode(q8, r, c + 30));  // row scale kept whole
}

// The semantic accessors (what the CUDA upload reads) give back the format's definition of W.
TEST(QuantizeWeight, CodesAndParamsDefineTheWeight) {
  for (WeightFormat f : {WeightFormat::Int8, WeightFormat::Int4, WeightFormat::Fp8}) {
    const LinearWeight q = slice_weight_rows(random_quantized(f, 7, 192, 21), 2, 4);  // a view of rows 2..5
    const int64_t n = q.out_features(), k = q.in_features(), ng = num_weight_groups(q);
    EXPECT_EQ(ng, f == WeightFormat::Int4 ? 3 : 1);
    std::vector<uint8_t> codes(static_cast<size_t>((n - 1) * k));
    std::vector<float> scales(static_cast<size_t>((n - 1) * ng)), zeros(scales.size());
    quantized_codes(q, 1, n, codes.data());
    quantized_params(q, 1, n, scales.data(), zeros.data());
    for (int64_t r = 1; r < n; r++)
      for (int64_t c = 0; c < k; c++) {
        const uint8_t code = codes[(r - 1) * k + c];
        const double v = f == WeightFormat::Int8 ? static_cast<int8_t>(code)
                         : f == WeightFormat::Fp8 ? fp8_e4m3_to_float(code)
                                                  : static_cast<double>(code);
        const int64_t g = (r - 1) * ng + c * ng / k;
        ASSERT_EQ((v - zeros[g]) * scales[g], decode(q, r, c)) << weight_format_name(f) << " r=" << r << " c=" << c;
      }
  }
}

struct Shape {
  int64_t m, n, k;
};

void check(WeightFormat f, const Shape& s, bool with_perm, uint32_t seed) {
  LinearWeight w = random_quantized(f, s.n, s.k, seed);
  if (with_perm) {  // a permutation of the input columns, as GPTQ act-order stores them
    w.perm = Tensor::empty_cpu(DType::I32, {s.k});
    std::iota(w.perm.ptr<int32_t>(), w.perm.ptr<int32_t>() + s.k, 0);
    for (int64_t c = 0; c < s.k; c++) std::swap(w.perm.ptr<int32_t>()[c], w.perm.ptr<int32_t>()[(c * 7 + 3) % s.k]);
  }
  auto x = test::random_floats(static_cast<size_t>(s.m * s.k), seed + 1);
  auto bv = test::random_floats(static_cast<size_t>(s.n), seed + 2);
  Tensor b = test::make_tensor(DType::F32, {s.n}, bv);
  auto y = test::nan_filled(static_cast<size_t>(s.m * s.n));
  cpu::linear_quantized(x.data(), w, &b, s.m, y.data());
  EXPECT_LT(test::rel_error(y, reference(x, w, &bv, s.m)), 2e-5)
      << weight_format_name(f) << " m=" << s.m << " n=" << s.n << " k=" << s.k << " perm=" << with_perm
      << " isa=" << cpu::linear_isa();
}

TEST(LinearQuantized, MatchesReferenceOnEveryPath) {
  // m = 1 (decode), small batches, and 64 > the GEMV cut-off (dequantized-panel GEMM); n with tails.
  // (the int8 dot products of AVX-512 VNNI quantize x too: tests/linear_vnni_test.cpp)
  const Shape shapes[] = {{1, 37, 128}, {1, 64, 256}, {3, 19, 128}, {8, 33, 192}, {33, 20, 128}, {64, 300, 128}};
  test::QuantDotScope dot("float");
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (const Shape& s : shapes)
      for (WeightFormat f : {WeightFormat::Int8, WeightFormat::Int4, WeightFormat::Fp8}) {
        check(f, s, false, 11);
        check(f, s, true, 12);
      }
    // int8 / fp8 k tails that are not a multiple of the vector width
    for (WeightFormat f : {WeightFormat::Int8, WeightFormat::Fp8}) check(f, Shape{2, 9, 37}, false, 13);
  }
}

TEST(LinearQuantized, RejectsMalformedWeights) {
  LinearWeight w = random_quantized(WeightFormat::Int8, 4, 64, 1);
  std::vector<float> x(64), y(4);
  w.scales = Tensor();
  EXPECT_THROW(cpu::linear_quantized(x.data(), w, nullptr, 1, y.data()), Error);
  LinearWeight f = random_quantized(WeightFormat::Int8, 4, 64, 1);
  f.format = WeightFormat::Float;
  EXPECT_THROW(cpu::linear_quantized(x.data(), f, nullptr, 1, y.data()), Error);
}

}  // namespace
}  // namespace tpserve
