// linear(): every SIMD path x weight dtype x GEMV/GEMM backend against a double reference on
// odd shapes, plus the shape checks. Run: ctest -R Linear
#include "kernels/cpu/linear.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "test_util.h"

namespace tpserve {
namespace {

struct Shape {
  int64_t m, n, k;
};

void check_linear(const Shape& s, DType wdt, bool with_bias, uint32_t seed, double tol) {
  auto x = test::random_floats(static_cast<size_t>(s.m * s.k), seed);
  auto wv = test::random_floats(static_cast<size_t>(s.n * s.k), seed + 1);
  auto bv = test::random_floats(static_cast<size_t>(s.n), seed + 2);
  Tensor w = test::make_tensor(wdt, {s.n, s.k}, wv);
  Tensor b = test::make_tensor(wdt, {s.n}, bv);
  auto y = test::nan_filled(static_cast<size_t>(s.m * s.n));
  cpu::linear(x.data(), w, with_bias ? &b : nullptr, s.m, y.data());
  auto want = test::linear_reference(x, wv, with_bias ? &bv : nullptr, s.m, s.n, s.k);
  EXPECT_LT(test::rel_error(y, want), tol) << "m=" << s.m << " n=" << s.n << " k=" << s.k
                                           << " dtype=" << dtype_name(wdt) << " isa=" << cpu::linear_isa()
                                           << " bias=" << with_bias << " seed=" << seed;
}

const Shape kOddShapes[] = {{1, 53, 37}, {2, 53, 37}, {3, 17, 64}, {7, 53, 37}, {8, 33, 129}, {33, 53, 37},
                            {40, 11, 19}, {200, 53, 37}, {5, 70, 1100}, {9, 300, 300}, {1, 1, 1}};

TEST(Linear, MatchesReferenceOnEveryPathAndDtype) {
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    EXPECT_STREQ(cpu::linear_isa(), cpu::isa_name(isa));
    for (DType wdt : test::all_dtypes())
      for (const Shape& s : kOddShapes)
        for (uint32_t seed : {1u, 2u, 3u}) check_linear(s, wdt, seed != 2, seed * 101, 1e-5);
  }
}

// Both GEMM backends (m above the GEMV cut-off of 40) on every path and dtype.
TEST(Linear, GemmBackendsMatchReference) {
  std::vector<std::string> backends = {"builtin"};
#ifdef TPSERVE_WITH_OPENBLAS
  backends.push_back("blas");
#endif
  for (const std::string& backend : backends) {
    setenv("TPSERVE_CPU_GEMM", backend.c_str(), 1);
    for (cpu::Isa isa : test::available_isas()) {
      test::IsaScope scope(isa);
      for (DType wdt : test::all_dtypes())
        for (const Shape& s : {Shape{41, 53, 37}, Shape{200, 53, 37}, Shape{70, 530, 300}, Shape{43, 9, 600}})
          check_linear(s, wdt, true, 7, 1e-5);
    }
  }
  setenv("TPSERVE_CPU_GEMM", "bogus", 1);
  std::vector<float> x(41 * 3, 1.f), y(41 * 2);
  auto wv = test::random_floats(6, 1);
  EXPECT_THROW(cpu::linear(x.data(), test::make_tensor(DType::F32, {2, 3}, wv), nullptr, 41, y.data()), Error);
  unsetenv("TPSERVE_CPU_GEMM");
}

TEST(Linear, LargerShapesUseThreads) {
  for (DType wdt : test::all_dtypes())
    for (const Shape& s : {Shape{1, 1000, 512}, Shape{4, 1000, 512}, Shape{64, 700, 512}}) check_linear(s, wdt, true, 11, 1e-5);
}

TEST(Linear, RejectsBadShapes) {
  auto wv = test::random_floats(6, 1);
  Tensor w = test::make_tensor(DType::F32, {2, 3}, wv);
  Tensor w1d = test::make_tensor(DType::F32, {6}, wv);
  auto bv = test::random_floats(3, 2);
  Tensor bad_bias = test::make_tensor(DType::F32, {3}, bv);
  std::vector<float> x(3, 1.f), y(2);
  EXPECT_THROW(cpu::linear(x.data(), w1d, nullptr, 1, y.data()), Error);
  EXPECT_THROW(cpu::linear(x.data(), w, &bad_bias, 1, y.data()), Error);
  EXPECT_THROW(cpu::linear(x.data(), w, nullptr, -1, y.data()), Error);
  EXPECT_THROW(cpu::linear(x.data(), w, nullptr, 1, x.data()), Error);  // y aliases x
  EXPECT_NO_THROW(cpu::linear(x.data(), w, nullptr, 1, y.data()));
}

TEST(Linear, IsaEnvironmentVariable) {
  setenv("TPSERVE_CPU_ISA", "sse9", 1);
  EXPECT_THROW(cpu::reload_isa(), Error);
  setenv("TPSERVE_CPU_ISA", "portable", 1);
  EXPECT_EQ(cpu::reload_isa(), cpu::Isa::Portable);
  unsetenv("TPSERVE_CPU_ISA");
  EXPECT_EQ(cpu::reload_isa(), cpu::hardware_isa());
}

}  // namespace
}  // namespace tpserve
