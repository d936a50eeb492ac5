// HostArena and its scope: blocks are 64-byte aligned, zero, disjoint and back to back in one
// chunk; a block larger than a chunk gets a chunk of its own; chunks start on 2 MiB; a block keeps
// its chunk alive after the arena is gone; Tensor::empty_cpu takes its storage from the arena of
// the innermost open scope on its thread only. Run: ctest -R HostArena
#include "tpserve/host_arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "tpserve/tensor.h"

namespace tpserve {
namespace {

uintptr_t addr(const std::shared_ptr<void>& p) { return reinterpret_cast<uintptr_t>(p.get()); }

TEST(HostArena, BlocksAreAlignedZeroDisjointAndBackToBack) {
  HostArena arena(size_t{4} << 20);
  std::vector<std::shared_ptr<void>> blocks;
  const size_t sizes[] = {1, 64, 100, 4096, 0, 70000, 3};
  for (size_t s : sizes) blocks.push_back(arena.allocate(s));
  EXPECT_EQ(addr(blocks[0]) % (size_t{2} << 20), 0u);  // the chunk's start
  for (size_t i = 0; i < blocks.size(); i++) {
    EXPECT_EQ(addr(blocks[i]) % 64, 0u);
    const auto* bytes = static_cast<const unsigned char*>(blocks[i].get());
    for (size_t j = 0; j < sizes[i]; j++) ASSERT_EQ(bytes[j], 0) << "block " << i;
    std::memset(blocks[i].get(), 0xab, sizes[i]);  // must not reach a neighbour: checked below
    if (i > 0) {
      const size_t rounded = (sizes[i - 1] == 0 ? 64 : (sizes[i - 1] + 63) / 64 * 64);
      EXPECT_EQ(addr(blocks[i]), addr(blocks[i - 1]) + rounded);
    }
  }
  for (size_t i = 0; i + 1 < blocks.size(); i++)
    if (sizes[i + 1] > 0) EXPECT_EQ(static_cast<unsigned char*>(blocks[i + 1].get())[0], 0xab);
  EXPECT_EQ(arena.mapped_bytes(), (size_t{4} << 20) + (size_t{2} << 20));  // one chunk (+ its alignment slack)
}

TEST(HostArena, ABlockLargerThanAChunkGetsItsOwnAndOutlivesTheArena) {
  std::shared_ptr<void> big;
  {
    HostArena arena(size_t{2} << 20);
    arena.allocate(1000);
    big = arena.allocate(size_t{5} << 20);  // > the 2 MiB chunk: a chunk of 6 MiB of its own
    EXPECT_EQ(addr(big) % (size_t{2} << 20), 0u);
    EXPECT_EQ(arena.mapped_bytes(), (size_t{4} << 20) + (size_t{8} << 20));
  }
  std::memset(big.get(), 1, size_t{5} << 20);  // still mapped: the block owns its chunk
  EXPECT_EQ(static_cast<unsigned char*>(big.get())[(size_t{5} << 20) - 1], 1);
}

TEST(HostArena, EmptyCpuAllocatesFromTheInnermostScopeOfItsThreadOnly) {
  HostArena outer, inner;
  Tensor plain = Tensor::empty_cpu(DType::F32, {16});
  {
    HostArenaScope a(&outer);
    Tensor t1 = Tensor::empty_cpu(DType::F32, {16});  // 64 bytes
    Tensor t2 = Tensor::empty_cpu(DType::BF16, {3, 5});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t2.data()), reinterpret_cast<uintptr_t>(t1.data()) + 64);
    EXPECT_EQ(t2.ptr<uint16_t>()[14], 0);
    {
      HostArenaScope b(&inner);
      Tensor t3 = Tensor::empty_cpu(DType::F32, {1});
      EXPECT_EQ(HostArenaScope::current(), &inner);
      EXPECT_EQ(outer.mapped_bytes(), inner.mapped_bytes());  // both have their one chunk
    }
    EXPECT_EQ(HostArenaScope::current(), &outer);
    HostArena* seen_elsewhere = &outer;
    std::thread([&] { seen_elsewhere = HostArenaScope::current(); }).join();
    EXPECT_EQ(seen_elsewhere, nullptr);  // a scope is the opening thread's alone
  }
  EXPECT_EQ(HostArenaScope::current(), nullptr);
  EXPECT_EQ(plain.numel(), 16);
}

}  // namespace
}  // namespace tpserve
