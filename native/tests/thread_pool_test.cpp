// ThreadPool (tpserve/thread_pool.h): every index of a job runs once, index 0 on the caller and the
// others on distinct pool threads; parallel_for covers its range once; an exception from any
// thread's share reaches the caller and the pool goes on; a job inside a job runs inline; workers
// that fell asleep wake for the next job; callers on several threads get whole jobs, one at a time.
// Run: ctest -R ThreadPool
#include "tpserve/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tpserve {
namespace {

TEST(ThreadPool, RunsEachIndexOnceOnItsOwnThread) {
  ThreadPool pool(3);
  for (int job = 0; job < 50; job++) {
    std::vector<std::thread::id> ran(3);
    std::vector<int> count(3, 0);
    pool.run_on_all([&](int i) {
      ran[static_cast<size_t>(i)] = std::this_thread::get_id();
      count[static_cast<size_t>(i)]++;
    });
    EXPECT_EQ(count, std::vector<int>({1, 1, 1}));
    EXPECT_EQ(ran[0], std::this_thread::get_id());
    EXPECT_EQ(std::set<std::thread::id>(ran.begin(), ran.end()).size(), 3u);
  }
}

TEST(ThreadPool, ManyJobsBackToBackAllComplete) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  constexpr int kJobs = 100000;
  for (int job = 0; job < kJobs; job++) pool.run_on_all([&](int i) { sum += i + 1; });
  EXPECT_EQ(sum.load(), int64_t{kJobs} * 3);  // each job: index 0 adds 1, index 1 adds 2
}

TEST(ThreadPool, ParallelForCoversTheRangeOnce) {
  ThreadPool pool(3);
  for (int64_t n : {1, 2, 5, 100, 1001}) {
    for (int64_t min_chunk : {1, 7, 400}) {
      std::vector<int> seen(static_cast<size_t>(n), 0);
      std::mutex mu;
      std::vector<std::pair<int64_t, int64_t>> chunks;
      pool.parallel_for(
          n,
          [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; r++) seen[static_cast<size_t>(r)]++;
            std::lock_guard<std::mutex> lock(mu);
            chunks.emplace_back(b, e);
          },
          min_chunk);
      for (int64_t r = 0; r < n; r++) ASSERT_EQ(seen[static_cast<size_t>(r)], 1) << "n " << n << " row " << r;
      if (chunks.size() > 1)
        for (const auto& [b, e] : chunks) EXPECT_GE(e - b, min_chunk) << "n " << n;
    }
  }
}

TEST(ThreadPool, ExceptionFromAnyShareReachesTheCallerAndThePoolGoesOn) {
  ThreadPool pool(3);
  for (int thrower : {0, 1, 2}) {
    std::atomic<int> ran{0};
    try {
      pool.run_on_all([&](int i) {
        ran++;
        if (i == thrower) throw std::runtime_error("share " + std::to_string(i));
      });
      FAIL() << "no exception from share " << thrower;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "share " + std::to_string(thrower));
    }
    EXPECT_EQ(ran.load(), 3);  // the other shares still ran
    std::atomic<int> after{0};
    pool.run_on_all([&](int) { after++; });  // no stale error, no stuck worker
    EXPECT_EQ(after.load(), 3);
  }
}

TEST(ThreadPool, JobInsideAJobRunsInlineOnThatThread) {
  ThreadPool pool(2);
  std::vector<std::vector<std::thread::id>> inner(2, std::vector<std::thread::id>(2));
  std::vector<std::thread::id> outer(2);
  pool.run_on_all([&](int i) {
    outer[static_cast<size_t>(i)] = std::this_thread::get_id();
    pool.run_on_all([&](int j) { inner[static_cast<size_t>(i)][static_cast<size_t>(j)] = std::this_thread::get_id(); });
  });
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) EXPECT_EQ(inner[static_cast<size_t>(i)][static_cast<size_t>(j)], outer[static_cast<size_t>(i)]);
}

TEST(ThreadPool, SleepingWorkersWakeForTheNextJob) {
  ThreadPool pool(3);
  for (int round = 0; round < 20; round++) {
    // longer than the workers' spin (200 µs): they are asleep when the job comes
    std::this_thread::sleep_for(std::chrono::milliseconds(round % 2 ? 2 : 1));
    std::atomic<int> ran{0};
    pool.run_on_all([&](int) { ran++; });
    EXPECT_EQ(ran.load(), 3) << "round " << round;
  }
}

TEST(ThreadPool, CallersOnSeveralThreadsGetWholeJobsOneAtATime) {
  ThreadPool pool(2);
  std::atomic<int> inside{0}, most_inside{0};
  std::atomic<int64_t> total{0};
  constexpr int kCallers = 3, kJobs = 2000;
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; c++)
    callers.emplace_back([&] {
      for (int job = 0; job < kJobs; job++) {
        std::vector<int> count(2, 0);
        pool.run_on_all([&](int i) {
          const int now = ++inside;
          int seen = most_inside.load();
          while (now > seen && !most_inside.compare_exchange_weak(seen, now)) {
          }
          count[static_cast<size_t>(i)]++;
          total++;
          --inside;
        });
        ASSERT_EQ(count, std::vector<int>({1, 1}));
      }
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), int64_t{kCallers} * kJobs * 2);
  EXPECT_LE(most_inside.load(), 2);  // never two jobs' shares at once on a 2-thread pool
}

}  // namespace
}  // namespace tpserve
