// add() and add_bias(): on every SIMD path and bias dtype, in place and at sizes that use threads.
// Run: ctest -R "Add"
#include "kernels/cpu/add.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace tpserve {
namespace {

TEST(Add, ElementwiseOnEveryPath) {
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (int64_t n : {1, 15, 37, 200003}) {
      auto a = test::random_floats(static_cast<size_t>(n), 1);
      auto b = test::random_floats(static_cast<size_t>(n), 2);
      auto out = test::nan_filled(a.size());
      cpu::add(a.data(), b.data(), n, out.data());
      for (int64_t i = 0; i < n; i++) ASSERT_EQ(out[i], a[i] + b[i]) << "i=" << i;
      cpu::add(a.data(), b.data(), n, a.data());  // in place
      EXPECT_EQ(a, out);
    }
  }
}

TEST(Add, BiasOnEveryPathAndDtype) {
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (DType dt : test::all_dtypes())
      for (int64_t rows : {1, 3, 500})
        for (int64_t n : {1, 53, 1000}) {
          auto y = test::random_floats(static_cast<size_t>(rows * n), 3);
          auto bv = test::random_floats(static_cast<size_t>(n), 4);
          Tensor bias = test::make_tensor(dt, {n}, bv);
          auto want = y;
          for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < n; j++) want[r * n + j] += bv[j];
          cpu::add_bias(y.data(), bias, rows);
          ASSERT_EQ(y, want) << "rows=" << rows << " n=" << n << " " << dtype_name(dt);
        }
  }
}

TEST(Add, RejectsNegativeSizes) {
  float a = 1.f;
  auto bv = test::random_floats(1, 1);
  EXPECT_THROW(cpu::add(&a, &a, -1, &a), Error);
  EXPECT_THROW(cpu::add_bias(&a, test::make_tensor(DType::F32, {1}, bv), -2), Error);
}

}  // namespace
}  // namespace tpserve
