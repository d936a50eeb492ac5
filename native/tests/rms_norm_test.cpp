// rms_norm(): every SIMD path and weight dtype against a double reference; in place; bad shapes.
// add_rms_norm(): the residual sum stored back, then the norm of it; aliasing outputs throw.
// Run: ctest -R RmsNorm
#include "kernels/cpu/rms_norm.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace tpserve {
namespace {

std::vector<double> reference(const std::vector<float>& x, const std::vector<float>& w, float eps, int64_t rows,
                              int64_t dim) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; r++) {
    double ss = 0;
    for (int64_t d = 0; d < dim; d++) ss += static_cast<double>(x[r * dim + d]) * x[r * dim + d];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(dim) + eps);
    for (int64_t d = 0; d < dim; d++) y[r * dim + d] = x[r * dim + d] * inv * w[d];
  }
  return y;
}

TEST(RmsNorm, MatchesReferenceOnEveryPathAndDtype) {
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (DType dt : test::all_dtypes())
      for (int64_t dim : {1, 37, 53, 128, 1000})
        for (int64_t rows : {1, 3, 200})
          for (uint32_t seed : {1u, 2u}) {
            auto x = test::random_floats(static_cast<size_t>(rows * dim), seed, -3.f, 3.f);
            auto wv = test::random_floats(static_cast<size_t>(dim), seed + 9, 0.5f, 1.5f);
            Tensor w = test::make_tensor(dt, {dim}, wv);
            const float eps = seed == 1 ? 1e-6f : 1e-2f;
            auto want = reference(x, wv, eps, rows, dim);
            auto out = test::nan_filled(x.size());
            cpu::rms_norm(x.data(), w, eps, rows, dim, out.data());
            EXPECT_LT(test::rel_error(out, want), 1e-5) << "dim=" << dim << " rows=" << rows << " " << dtype_name(dt)
                                                        << " isa=" << cpu::isa_name(isa);
            cpu::rms_norm(x.data(), w, eps, rows, dim, x.data());  // in place
            EXPECT_LT(test::rel_error(x, want), 1e-5);
          }
  }
}

TEST(AddRmsNorm, AddsTheResidualThenNormsOnEveryPath) {
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (int64_t dim : {37, 128})
      for (int64_t rows : {1, 9}) {
        auto res = test::random_floats(static_cast<size_t>(rows * dim), 4, -2.f, 2.f);
        const auto x = test::random_floats(res.size(), 5, -2.f, 2.f);
        auto wv = test::random_floats(static_cast<size_t>(dim), 6, 0.5f, 1.5f);
        Tensor w = test::make_tensor(DType::BF16, {dim}, wv);
        std::vector<float> sum(res.size());
        std::vector<double> want_res(res.size());
        for (size_t i = 0; i < res.size(); i++) sum[i] = res[i] + x[i], want_res[i] = sum[i];
        const auto want = reference(sum, wv, 1e-6f, rows, dim);
        auto out = test::nan_filled(res.size());
        cpu::add_rms_norm(res.data(), x.data(), w, 1e-6f, rows, dim, out.data());
        EXPECT_LT(test::rel_error(res, want_res), 1e-7) << "dim=" << dim << " isa=" << cpu::isa_name(isa);
        EXPECT_LT(test::rel_error(out, want), 1e-5) << "dim=" << dim << " isa=" << cpu::isa_name(isa);
      }
  }
}

TEST(AddRmsNorm, RejectsAnOutputAliasingItsInputs) {
  auto wv = test::random_floats(4, 1);
  Tensor w = test::make_tensor(DType::F32, {4}, wv);
  std::vector<float> res(4, 1.f), x(4, 2.f);
  EXPECT_THROW(cpu::add_rms_norm(res.data(), x.data(), w, 1e-6f, 1, 4, res.data()), Error);
  EXPECT_THROW(cpu::add_rms_norm(res.data(), x.data(), w, 1e-6f, 1, 4, x.data()), Error);
}

TEST(RmsNorm, RejectsWeightOfTheWrongSize) {
  auto wv = test::random_floats(5, 1);
  Tensor w = test::make_tensor(DType::F32, {5}, wv);
  std::vector<float> x(12, 1.f);
  EXPECT_THROW(cpu::rms_norm(x.data(), w, 1e-6f, 2, 6, x.data()), Error);
  EXPECT_THROW(cpu::rms_norm(x.data(), w, 1e-6f, -1, 5, x.data()), Error);
}

}  // namespace
}  // namespace tpserve
