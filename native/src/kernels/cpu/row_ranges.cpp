// How the CPU kernels split their output rows over the default thread pool (row_ranges.h).
#include "kernels/cpu/row_ranges.h"

#include <algorithm>
#include <atomic>

#include "tpserve/thread_pool.h"

namespace tpserve::cpu {
namespace {

// Rows below this much work (flops) per thread are not worth a fork and join.
constexpr double kMinWorkPerChunk = 1e5;

int64_t min_units(int64_t align, double work_per_row) {
  return std::max<int64_t>(1, static_cast<int64_t>(kMinWorkPerChunk / std::max(1.0, work_per_row * align)));
}

}  // namespace

// Guided self-scheduling: each grab takes half of an even share of what is left (at least
// min_units), so the chunks are long at first and short at the end, and the threads reach the
// join within one short chunk of each other (a fixed chunk size left up to one long chunk of
// waiting at every join: measured ~25 % of a batch-1 decode step's thread time).
void for_row_ranges(int64_t n, int64_t align, double work_per_row, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t units = (n + align - 1) / align, least = min_units(align, work_per_row);
  ThreadPool& pool = default_pool();
  const int64_t threads = pool.num_threads();
  if (threads == 1 || units < 2 * least) {
    fn(0, n);
    return;
  }
  std::atomic<int64_t> next{0};
  pool.run_on_all([&](int) {
    int64_t begin = next.load(std::memory_order_relaxed);
    for (;;) {
      if (begin >= units) return;
      const int64_t take = std::min(units - begin, std::max(least, (units - begin) / (2 * threads)));
      if (!next.compare_exchange_weak(begin, begin + take, std::memory_order_relaxed)) continue;
      fn(begin * align, std::min(n, (begin + take) * align));
      begin = next.load(std::memory_order_relaxed);
    }
  });
}

// One contiguous range per thread. A weight-streaming GEMV reads each weight byte once, so what
// bounds it is how well each core's stream is prefetched: a range of its own keeps the hardware
// prefetchers and the kernels' software prefetch trained from start to end, where the guided
// chunks above restart every thread's stream at each grab (measured, 246M shape, 2 threads:
// the b1 GEMVs of a step 1.50-1.61 ms against 1.76-1.94 for int4, int8 12-17 % faster in the
// engine, bf16 1 %). The threads are alike and the ranges equal, so they reach the join together.
void for_row_stripes(int64_t n, int64_t align, double work_per_row, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t units = (n + align - 1) / align;
  ThreadPool& pool = default_pool();
  const int64_t threads = std::min<int64_t>(pool.num_threads(), units / min_units(align, work_per_row));
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  pool.run_on_all([&](int i) {
    if (i >= threads) return;
    const int64_t begin = units * i / threads, end = units * (i + 1) / threads;
    if (begin < end) fn(begin * align, std::min(n, end * align));
  });
}

}  // namespace tpserve::cpu
