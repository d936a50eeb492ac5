// What one parallel op costs in synchronisation on this host: the round trip of one cache line
// between two threads (a flag written by one, seen by the other, answered), and a ThreadPool job
// whose shares do nothing, or only touch a counter of the caller's. A batch-1 decode step of the
// 246M shape issues ~80 such jobs (the GEMVs, attention), so these costs add up per token.
// Prints one JSON object; the best of --repeats runs of --jobs each.
// Run: native/build/thread_pool_bench [--threads N] [--jobs N] [--repeats N]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/cpu_relax.h"
#include "tpserve/thread_pool.h"

using namespace tpserve;

namespace {

double now_ns() { return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// One line each way: the caller writes `ping`, the other thread answers in `pong`.
double round_trip_ns(int trips) {
  struct alignas(64) Flag {
    std::atomic<int> value{0};
  };
  Flag ping, pong;
  std::thread other([&] {
    for (int i = 1; i <= trips; i++) {
      while (ping.value.load(std::memory_order_acquire) != i) cpu_relax();
      pong.value.store(i, std::memory_order_release);
    }
  });
  const double t0 = now_ns();
  for (int i = 1; i <= trips; i++) {
    ping.value.store(i, std::memory_order_release);
    while (pong.value.load(std::memory_order_acquire) != i) cpu_relax();
  }
  const double ns = (now_ns() - t0) / trips;
  other.join();
  return ns;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, jobs = 100000, repeats = 5;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::max(2, std::atoi(argv[++i]));
    else if (a == "--jobs" && i + 1 < argc) jobs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--repeats" && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: thread_pool_bench [--threads N] [--jobs N] [--repeats N]\n");
      return 2;
    }
  }
  double trip = 1e30, empty = 1e30, touching = 1e30;
  for (int r = 0; r < repeats; r++) {
    std::fprintf(stderr, "thread_pool_bench: run %d of %d\n", r + 1, repeats);
    trip = std::min(trip, round_trip_ns(jobs));
    ThreadPool pool(threads);
    pool.run_on_all([](int) {});  // the workers started and spinning
    double t0 = now_ns();
    for (int j = 0; j < jobs; j++) pool.run_on_all([](int) {});
    empty = std::min(empty, (now_ns() - t0) / jobs);
    std::atomic<int64_t> counter{0};
    t0 = now_ns();
    for (int j = 0; j < jobs; j++) pool.run_on_all([&](int i) { counter.fetch_add(i, std::memory_order_relaxed); });
    touching = std::min(touching, (now_ns() - t0) / jobs);
  }
  std::printf("{\"threads\": %d, \"jobs\": %d, \"cache_line_round_trip_ns\": %.0f, \"run_on_all_empty_ns\": %.0f, "
              "\"run_on_all_touching_caller_counter_ns\": %.0f}\n",
              threads, jobs, trip, empty, touching);
  return 0;
}
