// cpu::argmax on every SIMD path against std::max_element (the first of the largest): random rows
// of every length up to 70 and the 32000 ids of the bench vocabulary, ties (the lowest index wins),
// +0 and -0 as one value, all -inf, +inf, and a NaN anywhere (in the vector body and the tail).
// Run: ctest -R Argmax
#include "kernels/cpu/argmax.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "test_util.h"

namespace tpserve {
namespace {

void expect_argmax(const std::vector<float>& x, const char* what) {
  const auto it = std::max_element(x.begin(), x.end());  // no NaN here: the first of the largest
  const cpu::ArgMax got = cpu::argmax(x.data(), static_cast<int64_t>(x.size()));
  EXPECT_FALSE(got.has_nan) << what;
  EXPECT_EQ(got.value, *it) << what << " n=" << x.size() << " isa=" << cpu::isa_name(cpu::active_isa());
  EXPECT_EQ(got.index, it - x.begin()) << what << " n=" << x.size() << " isa=" << cpu::isa_name(cpu::active_isa());
}

TEST(Argmax, MatchesTheFirstLargestOnEveryPath) {
  const float inf = std::numeric_limits<float>::infinity();
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (size_t n : {size_t{1}, size_t{2}, size_t{7}, size_t{8}, size_t{15}, size_t{16}, size_t{17}, size_t{31}, size_t{33},
                     size_t{64}, size_t{70}, size_t{32000}}) {
      auto x = test::random_floats(n, static_cast<uint32_t>(n) + 3, -20.f, 20.f);
      expect_argmax(x, "random");
      for (size_t at : {size_t{0}, n / 2, n - 1}) {  // ties: the same max at `at` and after it
        auto t = x;
        const float top = *std::max_element(t.begin(), t.end()) + 1.f;
        t[at] = top;
        for (size_t j = at + 1; j < n; j += 5) t[j] = top;
        expect_argmax(t, "ties");
      }
      std::vector<float> zeros(n, -1.f);
      zeros[n - 1] = 0.f;
      if (n > 1) zeros[n / 2] = -0.f;  // -0 == +0: the lower index wins
      expect_argmax(zeros, "signed zeros");
      expect_argmax(std::vector<float>(n, -inf), "all -inf");
      auto big = x;
      big[n - 1] = inf;
      expect_argmax(big, "+inf");
    }
  }
}

TEST(Argmax, ReportsANaNAnywhere) {
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (size_t n : {size_t{1}, size_t{9}, size_t{16}, size_t{33}, size_t{32000}})
      for (size_t at : {size_t{0}, n / 2, n - 1}) {
        auto x = test::random_floats(n, 5);
        x[at] = std::nanf("");
        const cpu::ArgMax got = cpu::argmax(x.data(), static_cast<int64_t>(n));
        EXPECT_TRUE(got.has_nan) << "n=" << n << " at=" << at << " isa=" << cpu::isa_name(isa);
        EXPECT_EQ(got.index, -1);
      }
  }
}

}  // namespace
}  // namespace tpserve
