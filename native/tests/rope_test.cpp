// rope(): rotate-half rotary embedding in place against a double reference; odd head_dim throws.
// Run: ctest -R Rope
#include "kernels/cpu/rope.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace tpserve {
namespace {

TEST(Rope, MatchesReference) {
  for (int64_t head_dim : {2, 40, 128, 6})
    for (int64_t tokens : {1, 7, 70})
      for (int64_t heads : {1, 3, 8}) {
        const int64_t half = head_dim / 2;
        auto x = test::random_floats(static_cast<size_t>(tokens * heads * head_dim), 3);
        std::vector<float> cos(static_cast<size_t>(tokens * half)), sin(cos.size());
        for (int64_t t = 0; t < tokens; t++)
          for (int64_t i = 0; i < half; i++) {
            const double pos = static_cast<double>(t * 13 + 5);
            const double angle = pos * std::pow(1e7, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
            cos[t * half + i] = static_cast<float>(std::cos(angle));
            sin[t * half + i] = static_cast<float>(std::sin(angle));
          }
        std::vector<double> want(x.size());
        for (int64_t t = 0; t < tokens; t++)
          for (int64_t h = 0; h < heads; h++)
            for (int64_t i = 0; i < half; i++) {
              const int64_t base = (t * heads + h) * head_dim;
              const double a = x[base + i], b = x[base + half + i], c = cos[t * half + i], s = sin[t * half + i];
              want[base + i] = a * c - b * s;
              want[base + half + i] = b * c + a * s;
            }
        cpu::rope(x.data(), cos.data(), sin.data(), tokens, heads, head_dim);
        EXPECT_LT(test::rel_error(x, want), 1e-6) << "head_dim=" << head_dim << " tokens=" << tokens;
      }
}

TEST(Rope, RejectsOddHeadDim) {
  std::vector<float> x(5), c(2), s(2);
  EXPECT_THROW(cpu::rope(x.data(), c.data(), s.data(), 1, 1, 5), Error);
}

}  // namespace
}  // namespace tpserve
