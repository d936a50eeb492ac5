// RopeTable on the CPU backend: rows equal cos/sin of position * inv_freq computed in double;
// it grows by powers of two from 4096 rows only when a larger position comes, keeps the rows it
// had, and rejects negative positions. Run: ctest -R RopeTable
#include "model/rope_table.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tpserve {
namespace {

void expect_rows(const RopeTable& t, const std::vector<double>& inv_freq, std::initializer_list<int64_t> positions) {
  const int64_t half = static_cast<int64_t>(inv_freq.size());
  for (int64_t p : positions)
    for (int64_t j = 0; j < half; j++) {
      const double angle = static_cast<double>(p) * inv_freq[j];
      ASSERT_EQ(t.cos()[p * half + j], static_cast<float>(std::cos(angle))) << "p=" << p << " j=" << j;
      ASSERT_EQ(t.sin()[p * half + j], static_cast<float>(std::sin(angle))) << "p=" << p << " j=" << j;
    }
}

TEST(RopeTable, GrowsOnDemandAndMatchesDoubleTrigonometry) {
  auto backend = make_cpu_backend(1);
  std::vector<double> inv_freq;
  for (int j = 0; j < 8; j++) inv_freq.push_back(std::pow(1e7, -2.0 * j / 16.0));
  RopeTable t(*backend, inv_freq);
  EXPECT_EQ(t.capacity(), 0);
  EXPECT_TRUE(t.ensure(10));
  EXPECT_EQ(t.capacity(), 4096);
  const float* first = t.cos();
  EXPECT_FALSE(t.ensure(4095));  // inside the table: nothing moves
  EXPECT_EQ(t.cos(), first);
  expect_rows(t, inv_freq, {0, 1, 10, 4095});
  EXPECT_TRUE(t.ensure(524287));  // Seed-OSS's last position
  EXPECT_EQ(t.capacity(), 524288);
  expect_rows(t, inv_freq, {0, 10, 4095, 4096, 300001, 524287});
  EXPECT_THROW(t.ensure(-1), Error);
}

}  // namespace
}  // namespace tpserve
