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
void for_row_ranges(int64_t n, int64_t align, double work_per_row, FunctionRef<void(int64_t, int64_t)> fn) {
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

// One contiguous stripe per thread, each taken from its front by its owner, chunk after chunk, so
// a weight-streaming GEMV reads one stream per core from start to end: the hardware prefetchers
// and the kernels' software prefetch stay trained, where the guided chunks above restart every
// thread's stream at each grab (measured, 246M shape, 2 threads: the b1 GEMVs of a step
// 1.50-1.61 ms against 1.76-1.94 for int4; int8 12-17 % faster in the engine, bf16 1 %).
// A thread done with its stripe takes the unclaimed half of another's from its back: when the
// owner lost its core (to the JS thread of a 2-core host, or to a neighbour) the other one works
// on instead of spinning at the join.
void for_row_stripes(int64_t n, int64_t align, double work_per_row, FunctionRef<void(int64_t, int64_t)> fn) {
  const int64_t units = (n + align - 1) / align, least = min_units(align, work_per_row);
  ThreadPool& pool = default_pool();
  const int64_t threads = std::min<int64_t>(pool.num_threads(), units / least);
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  if (units >= (int64_t{1} << 31)) return for_row_ranges(n, align, work_per_row, fn);  // spans hold 32-bit units
  // [front, back) of stripe i packed in one word: front in the high half, back in the low one.
  struct alignas(64) Stripe {
    std::atomic<uint64_t> span;
  };
  constexpr int64_t kMaxStripes = 64;
  Stripe stripes[kMaxStripes];
  const int64_t used = std::min(threads, kMaxStripes);
  for (int64_t i = 0; i < used; i++)
    stripes[i].span.store(static_cast<uint64_t>(units * i / used) << 32 | static_cast<uint64_t>(units * (i + 1) / used),
                          std::memory_order_relaxed);
  auto run_units = [&](int64_t b, int64_t e) { fn(b * align, std::min(n, e * align)); };
  pool.run_on_all([&](int t) {
    if (t >= used) return;
    // own stripe, front to back, in eighths (at least `least` units)
    Stripe& own = stripes[t];
    const uint64_t first = own.span.load(std::memory_order_relaxed);
    const int64_t chunk = std::max(least, (static_cast<int64_t>(first & 0xffffffffu) - static_cast<int64_t>(first >> 32)) / 8);
    for (uint64_t span = own.span.load(std::memory_order_relaxed);;) {
      const int64_t front = static_cast<int64_t>(span >> 32), back = static_cast<int64_t>(span & 0xffffffffu);
      if (front >= back) break;
      const int64_t end = std::min(back, front + chunk);
      if (!own.span.compare_exchange_weak(span, static_cast<uint64_t>(end) << 32 | static_cast<uint64_t>(back),
                                          std::memory_order_relaxed))
        continue;
      run_units(front, end);
      span = own.span.load(std::memory_order_relaxed);
    }
    // then the unclaimed back halves of the others'
    for (int64_t k = 1; k < used; k++) {
      Stripe& other = stripes[(t + k) % used];
      for (uint64_t span = other.span.load(std::memory_order_relaxed);;) {
        const int64_t front = static_cast<int64_t>(span >> 32), back = static_cast<int64_t>(span & 0xffffffffu);
        if (back - front < least) break;  // the owner finishes what little is left
        const int64_t begin = back - std::max(least, (back - front) / 2);
        if (!other.span.compare_exchange_weak(span, static_cast<uint64_t>(front) << 32 | static_cast<uint64_t>(begin),
                                              std::memory_order_relaxed))
          continue;
        run_units(begin, back);
        span = other.span.load(std::memory_order_relaxed);
      }
    }
  });
}

}  // namespace tpserve::cpu
