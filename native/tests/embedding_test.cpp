// embedding(): vocab-parallel lookup on every SIMD path and table dtype; ids outside this rank's
// slice give zero rows. Run: ctest -R Embedding
#include "kernels/cpu/embedding.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace tpserve {
namespace {

TEST(Embedding, CopiesRowsOfTheSliceAndZerosTheRest) {
  const int64_t rows = 29, hidden = 37, vocab_begin = 10;
  const std::vector<int32_t> ids = {10, 38, 9, 39, 20, 0, 15, 15, 1000};
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (DType dt : test::all_dtypes()) {
      auto values = test::random_floats(static_cast<size_t>(rows * hidden), 5);
      Tensor table = test::make_tensor(dt, {rows, hidden}, values);
      auto out = test::nan_filled(ids.size() * hidden);
      cpu::embedding(table, ids.data(), static_cast<int64_t>(ids.size()), vocab_begin, out.data());
      for (size_t t = 0; t < ids.size(); t++) {
        const int64_t row = ids[t] - vocab_begin;
        for (int64_t d = 0; d < hidden; d++) {
          const float want = row >= 0 && row < rows ? values[row * hidden + d] : 0.f;
          ASSERT_EQ(out[t * hidden + d], want) << "token " << t << " dim " << d << " " << dtype_name(dt);
        }
      }
    }
  }
}

TEST(Embedding, ManyTokensInParallel) {
  const int64_t rows = 100, hidden = 1000, n = 300;
  auto values = test::random_floats(static_cast<size_t>(rows * hidden), 6);
  Tensor table = test::make_tensor(DType::BF16, {rows, hidden}, values);
  std::vector<int32_t> ids(n);
  for (int64_t t = 0; t < n; t++) ids[t] = static_cast<int32_t>((t * 37) % rows);
  auto out = test::nan_filled(static_cast<size_t>(n * hidden));
  cpu::embedding(table, ids.data(), n, 0, out.data());
  for (int64_t t = 0; t < n; t++)
    for (int64_t d = 0; d < hidden; d++) ASSERT_EQ(out[t * hidden + d], values[ids[t] * hidden + d]);
}

TEST(Embedding, RejectsBadTable) {
  auto values = test::random_floats(10, 1);
  Tensor flat = test::make_tensor(DType::F32, {10}, values);
  int32_t id = 0;
  float out[10];
  EXPECT_THROW(cpu::embedding(flat, &id, 1, 0, out), Error);
  EXPECT_THROW(cpu::embedding(test::make_tensor(DType::F32, {2, 5}, values), &id, -1, 0, out), Error);
}

}  // namespace
}  // namespace tpserve
