// kv_write(): rows land in their paged slots in every cache dtype, padding slots (-1) are
// skipped, other slots stay untouched, slots past the cache throw. Run: ctest -R KvWrite
#include "kernels/cpu/kv_write.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "test_util.h"

namespace tpserve {
namespace {

float read_cache(const std::vector<uint8_t>& cache, DType dt, size_t i) { return load_as_float(cache.data(), dt, i); }

TEST(KvWrite, WritesEachTokenToItsSlot) {
  for (int64_t bs : {16, 5}) {
    const KvLayout layout{7, 2, bs, 40};
    const int64_t row = layout.num_kv_heads * layout.head_dim, num_slots = layout.num_blocks * bs;
    for (DType dt : test::all_dtypes()) {
      std::vector<int32_t> perm(static_cast<size_t>(num_slots));
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), std::mt19937(static_cast<uint32_t>(bs)));
      std::vector<int32_t> slots(perm.begin(), perm.begin() + 9);
      slots[4] = -1;  // padding
      const int64_t n = static_cast<int64_t>(slots.size());
      auto k = test::random_floats(static_cast<size_t>(n * row), 1);
      auto v = test::random_floats(static_cast<size_t>(n * row), 2);
      const size_t cache_elems = static_cast<size_t>(num_slots * row);
      std::vector<uint8_t> kc(cache_elems * dtype_size(dt)), vc(kc.size());
      std::vector<float> sentinel(cache_elems, 7.0f);
      Tensor sk = test::make_tensor(dt, {static_cast<int64_t>(cache_elems)}, sentinel);
      std::memcpy(kc.data(), sk.data(), kc.size());
      std::memcpy(vc.data(), sk.data(), vc.size());
      cpu::kv_write(k.data(), v.data(), slots.data(), n, layout, kc.data(), vc.data(), dt);
      std::vector<bool> written(static_cast<size_t>(num_slots), false);
      for (int64_t t = 0; t < n; t++) {
        if (slots[t] < 0) continue;
        written[slots[t]] = true;
        const int64_t block = slots[t] / bs, off = slots[t] % bs;
        for (int64_t h = 0; h < layout.num_kv_heads; h++)
          for (int64_t d = 0; d < layout.head_dim; d++) {
            const size_t ci = static_cast<size_t>(((block * layout.num_kv_heads + h) * bs + off) * layout.head_dim + d);
            const size_t xi = static_cast<size_t>(t * row + h * layout.head_dim + d);
            ASSERT_EQ(read_cache(kc, dt, ci), test::round_to(dt, k[xi]));
            ASSERT_EQ(read_cache(vc, dt, ci), test::round_to(dt, v[xi]));
          }
      }
      for (int64_t s = 0; s < num_slots; s++) {
        if (written[s]) continue;
        const int64_t block = s / bs, off = s % bs;
        const size_t ci = static_cast<size_t>((block * layout.num_kv_heads * bs + off) * layout.head_dim);
        ASSERT_EQ(read_cache(kc, dt, ci), 7.0f) << "slot " << s << " was overwritten";
      }
    }
  }
}

TEST(KvWrite, RejectsSlotPastTheCache) {
  const KvLayout layout{2, 1, 4, 8};
  std::vector<float> k(8), v(8), kc(64), vc(64);
  int32_t slot = 8;
  EXPECT_THROW(cpu::kv_write(k.data(), v.data(), &slot, 1, layout, kc.data(), vc.data(), DType::F32), Error);
  slot = 7;
  EXPECT_NO_THROW(cpu::kv_write(k.data(), v.data(), &slot, 1, layout, kc.data(), vc.data(), DType::F32));
}

}  // namespace
}  // namespace tpserve
