// rope(): rotate-half rotary embedding in place, cos/sin read from the table row of each token's
// position, against a double reference; odd head_dim throws. rope_kv_write(): the same rotation
// of q and k, and k, v rows stored to their cache slots. Run: ctest -R Rope
#include "kernels/cpu/rope.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace tpserve {
namespace {

// cos/sin tables [num_positions, half] of rope_theta 1e7 (double precision, then fp32).
struct Tables {
  std::vector<float> cos, sin;
  Tables(int64_t num_positions, int64_t head_dim) {
    const int64_t half = head_dim / 2;
    for (int64_t p = 0; p < num_positions; p++)
      for (int64_t i = 0; i < half; i++) {
        const double angle =
            static_cast<double>(p) * std::pow(1e7, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
        cos.push_back(static_cast<float>(std::cos(angle)));
        sin.push_back(static_cast<float>(std::sin(angle)));
      }
  }
};

// x rotated in double at the given positions.
std::vector<double> rotated(const std::vector<float>& x, const Tables& tb, const std::vector<int32_t>& pos,
                            int64_t heads, int64_t head_dim) {
  const int64_t half = head_dim / 2, tokens = static_cast<int64_t>(pos.size());
  std::vector<double> want(x.size());
  for (int64_t t = 0; t < tokens; t++)
    for (int64_t h = 0; h < heads; h++)
      for (int64_t i = 0; i < half; i++) {
        const int64_t base = (t * heads + h) * head_dim, row = pos[t] * half;
        const double a = x[base + i], b = x[base + half + i], c = tb.cos[row + i], s = tb.sin[row + i];
        want[base + i] = a * c - b * s;
        want[base + half + i] = b * c + a * s;
      }
  return want;
}

std::vector<int32_t> positions(int64_t tokens) {
  std::vector<int32_t> pos;
  for (int64_t t = 0; t < tokens; t++) pos.push_back(static_cast<int32_t>((t * 37 + 5) % 300));  // out of order
  return pos;
}

TEST(Rope, MatchesReference) {
  for (int64_t head_dim : {2, 40, 128, 6}) {
    const Tables tb(300, head_dim);
    for (int64_t tokens : {1, 7, 70})
      for (int64_t heads : {1, 3, 8}) {
        auto x = test::random_floats(static_cast<size_t>(tokens * heads * head_dim), 3);
        const auto pos = positions(tokens);
        const auto want = rotated(x, tb, pos, heads, head_dim);
        cpu::rope(x.data(), tb.cos.data(), tb.sin.data(), pos.data(), tokens, heads, head_dim);
        EXPECT_LT(test::rel_error(x, want), 1e-6) << "head_dim=" << head_dim << " tokens=" << tokens;
      }
  }
}

TEST(Rope, RejectsOddHeadDim) {
  std::vector<float> x(5), c(2), s(2);
  const int32_t pos = 0;
  EXPECT_THROW(cpu::rope(x.data(), c.data(), s.data(), &pos, 1, 1, 5), Error);
}

TEST(RopeKvWrite, RotatesQAndKAndStoresKAndV) {
  const int64_t T = 9, Hq = 6, Hk = 2, D = 32;
  const KvLayout layout{5, Hk, 4, D};
  const Tables tb(300, D);
  const auto pos = positions(T);
  std::vector<int32_t> slots;
  for (int64_t t = 0; t < T; t++) slots.push_back(static_cast<int32_t>((t * 7 + 1) % 20));
  slots[2] = -1;  // padding: not stored
  for (DType dt : test::all_dtypes()) {
    auto q = test::random_floats(T * Hq * D, 17), k = test::random_floats(T * Hk * D, 18);
    const auto v = test::random_floats(T * Hk * D, 19);
    const auto want_q = rotated(q, tb, pos, Hq, D), want_k = rotated(k, tb, pos, Hk, D);
    const size_t cache_elems = static_cast<size_t>(5 * Hk * 4 * D);
    std::vector<uint8_t> kc(cache_elems * dtype_size(dt), 0), vc(kc.size(), 0);
    cpu::rope_kv_write(q.data(), k.data(), v.data(), tb.cos.data(), tb.sin.data(), pos.data(), slots.data(), T, Hq,
                       layout, kc.data(), vc.data(), dt);
    EXPECT_LT(test::rel_error(q, want_q), 1e-6) << dtype_name(dt);
    EXPECT_LT(test::rel_error(k, want_k), 1e-6) << dtype_name(dt);
    for (int64_t t = 0; t < T; t++) {
      if (slots[t] < 0) continue;
      const int64_t block = slots[t] / 4, off = slots[t] % 4;
      for (int64_t h = 0; h < Hk; h++)
        for (int64_t d = 0; d < D; d++) {
          const size_t at = static_cast<size_t>(((block * Hk + h) * 4 + off) * D + d), src = (t * Hk + h) * D + d;
          ASSERT_EQ(load_as_float(kc.data(), dt, at), test::round_to(dt, k[src])) << "k t=" << t;
          ASSERT_EQ(load_as_float(vc.data(), dt, at), test::round_to(dt, v[src])) << "v t=" << t;
        }
    }
    // The padding token's rows went nowhere: 8 of the 20 slots hold data, the rest stay zero.
    int64_t nonzero_rows = 0;
    for (size_t r = 0; r < cache_elems / D; r++) nonzero_rows += load_as_float(vc.data(), dt, r * D) != 0.f;
    EXPECT_EQ(nonzero_rows, (T - 1) * Hk) << dtype_name(dt);
  }
}

}  // namespace
}  // namespace tpserve
