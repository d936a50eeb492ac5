// commit_pages and the CPU backend's committed allocations: a fresh large tensor has (almost) no
// resident page, after commit_pages every page is resident (mincore) and still zero, over 1 and 2
// threads and for sizes that end inside a page; CpuBackend::alloc and so the KV cache come back
// committed, the cache reporting its progress once per layer. Run: ctest -R CommitPages
#include "tpserve/commit_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "model/kv_cache.h"
#include "tpserve/backend.h"
#include "tpserve/tensor.h"
#include "tpserve/thread_pool.h"

namespace tpserve {
namespace {

// Resident pages of [p, p + bytes), by mincore over the whole pages it spans.
size_t resident_pages(const void* p, size_t bytes, size_t* total = nullptr) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes + page - 1) / page * page;
  std::vector<unsigned char> vec((end - begin) / page);
  EXPECT_EQ(mincore(reinterpret_cast<void*>(begin), end - begin, vec.data()), 0);
  size_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  if (total) *total = vec.size();
  return n;
}

TEST(CommitPages, MakesEveryPageOfAFreshMappingResidentAndLeavesItZero) {
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    for (int64_t bytes : {int64_t{8} << 20, (int64_t{3} << 20) + 123}) {
      Tensor t = Tensor::empty_cpu(DType::U8, {bytes});  // >= 1 MiB: an anonymous mapping of its own
      size_t pages = 0;
      EXPECT_LE(resident_pages(t.data(), t.nbytes(), &pages), pages / 8) << "fresh mapping already resident";
      commit_pages(t.data(), t.nbytes(), pool);
      EXPECT_EQ(resident_pages(t.data(), t.nbytes()), pages) << threads << " threads, " << bytes << " bytes";
      const auto* b = t.ptr<const uint8_t>();
      for (int64_t i = 0; i < bytes; i += 997) ASSERT_EQ(b[i], 0) << i;
      EXPECT_EQ(b[bytes - 1], 0);
    }
  }
}

TEST(CommitPages, NothingToDoForNoBytes) {
  ThreadPool pool(2);
  commit_pages(nullptr, 0, pool);
  char c = 7;
  commit_pages(&c, 0, pool);
  EXPECT_EQ(c, 7);
}

TEST(CommitPages, CpuBackendAllocationsAndTheKvCacheComeBackCommitted) {
  auto backend = make_cpu_backend(2);
  Tensor t = backend->alloc(DType::F32, {int64_t{1} << 21});  // 8 MiB
  size_t pages = 0;
  EXPECT_EQ(resident_pages(t.data(), t.nbytes(), &pages), pages);

  KvLayout layout;
  layout.num_blocks = 64;
  layout.num_kv_heads = 4;
  layout.block_size = 16;
  layout.head_dim = 128;  // 4 MiB per layer's K (and V) in f32
  std::vector<std::pair<int64_t, int64_t>> reports;
  KvCache kv(*backend, 3, layout, DType::F32, [&](int64_t done, int64_t total) { reports.emplace_back(done, total); });
  const std::vector<std::pair<int64_t, int64_t>> expected{{1, 3}, {2, 3}, {3, 3}};
  EXPECT_EQ(reports, expected);
  const size_t bytes = static_cast<size_t>(64 * 4 * 16 * 128) * 4;
  for (int64_t layer = 0; layer < 3; layer++) {
    EXPECT_EQ(resident_pages(kv.k(layer), bytes, &pages), pages) << "K of layer " << layer;
    EXPECT_EQ(resident_pages(kv.v(layer), bytes, &pages), pages) << "V of layer " << layer;
  }
}

}  // namespace
}  // namespace tpserve
