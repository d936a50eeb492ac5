// How the CPU kernels split output rows over the pool (kernels/cpu/row_ranges.h): every row is
// handed out exactly once, in multiples of the alignment; a stripe's owner walks it front to
// back; and when one thread stalls, another takes the rest of its stripe from the back (the
// stalled one is not waited for). Run: ctest -R RowRanges
#include "kernels/cpu/row_ranges.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "tpserve/thread_pool.h"

namespace tpserve::cpu {
namespace {

struct Chunk {
  std::thread::id thread;
  int64_t begin, end;
};

using Splitter = void (*)(int64_t, int64_t, double, FunctionRef<void(int64_t, int64_t)>);

std::vector<Chunk> record(Splitter split, int64_t n, int64_t align, double work_per_row,
                          const std::function<void(int64_t)>& on_chunk = nullptr) {
  std::mutex mu;
  std::vector<Chunk> chunks;
  split(n, align, work_per_row, [&](int64_t b, int64_t e) {
    if (on_chunk) on_chunk(b);
    std::lock_guard<std::mutex> lock(mu);
    chunks.push_back({std::this_thread::get_id(), b, e});
  });
  return chunks;
}

// Each row in exactly one chunk; chunks start at multiples of align and end there or at n.
void expect_exact_cover(const std::vector<Chunk>& chunks, int64_t n, int64_t align) {
  std::vector<int> seen(static_cast<size_t>(n), 0);
  for (const Chunk& c : chunks) {
    ASSERT_LT(c.begin, c.end);
    EXPECT_EQ(c.begin % align, 0);
    EXPECT_TRUE(c.end == n || c.end % align == 0);
    for (int64_t r = c.begin; r < c.end; r++) seen[static_cast<size_t>(r)]++;
  }
  for (int64_t r = 0; r < n; r++) ASSERT_EQ(seen[static_cast<size_t>(r)], 1) << "row " << r;
}

TEST(RowRanges, BothSplittersCoverEveryRowOnceAtEveryPoolSize) {
  for (int threads : {1, 2, 3, 5}) {
    set_num_threads(threads);
    for (int64_t n : {1, 15, 16, 17, 1000, 1536, 32000})
      for (int64_t align : {16, 64}) {
        SCOPED_TRACE(testing::Message() << "threads " << threads << " n " << n << " align " << align);
        expect_exact_cover(record(for_row_ranges, n, align, 2048), n, align);
        expect_exact_cover(record(for_row_stripes, n, align, 2048), n, align);
      }
  }
  set_num_threads(0);
}

TEST(RowRanges, TooLittleWorkRunsAsOneChunkOnTheCaller) {
  set_num_threads(2);
  const auto chunks = record(for_row_stripes, 64, 16, 10);  // 4 tiles of 160 flops: far below a chunk's worth
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].thread, std::this_thread::get_id());
  EXPECT_EQ(chunks[0].end, 64);
  set_num_threads(0);
}

TEST(RowRanges, EachOwnerWalksItsStripeFrontToBack) {
  set_num_threads(2);
  const int64_t n = 16 * 400;  // stripes [0, n/2) for the caller, [n/2, n) for the pool thread
  const auto chunks = record(for_row_stripes, n, 16, 2048);
  const std::thread::id caller = std::this_thread::get_id();
  int64_t next[2] = {0, n / 2};  // where each owner's next chunk of its own stripe must start
  for (const Chunk& c : chunks) {  // recorded in the order each thread ran them
    const int owner = c.begin < n / 2 ? 0 : 1;
    if ((owner == 0) != (c.thread == caller)) continue;  // a chunk taken from the other's back
    EXPECT_EQ(c.begin, next[owner]);
    next[owner] = c.end;
  }
  EXPECT_GT(next[0], 0);
  EXPECT_GT(next[1], n / 2);
  set_num_threads(0);
}

TEST(RowRanges, AStalledStripeIsFinishedByTheOtherThread) {
  set_num_threads(2);
  const int64_t n = 16 * 800;
  const std::thread::id caller = std::this_thread::get_id();
  bool stalled = false;
  // The caller (stripe 0's owner) stalls 50 ms on its first chunk, as a thread that lost its core.
  const auto chunks = record(for_row_stripes, n, 16, 2048, [&](int64_t) {
    if (std::this_thread::get_id() == caller && !stalled) {
      stalled = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  expect_exact_cover(chunks, n, 16);
  int64_t rows_of_caller = 0, rows_below_half_by_other = 0;
  for (const Chunk& c : chunks) {
    if (c.thread == caller) rows_of_caller += c.end - c.begin;
    else if (c.end <= n / 2) rows_below_half_by_other += c.end - c.begin;
  }
  // the caller's stripe is [0, n/2): the other thread took most of it while the caller slept
  EXPECT_GT(rows_below_half_by_other, n / 4);
  EXPECT_LT(rows_of_caller, n / 4);
  set_num_threads(0);
}

}  // namespace
}  // namespace tpserve::cpu
