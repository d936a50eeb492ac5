// SerialRunner: jobs run one at a time in submission order on the runner's own thread (whatever
// threads submit and wait), a job queued behind another starts right after it ends (idle ~0),
// a job after a pause reports that pause, queued() counts the jobs not yet started, and the
// destructor runs what is queued. Run: ctest -R SerialRunner
#include "core/serial_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace tpserve {
namespace {

TEST(SerialRunner, RunsJobsInSubmissionOrderOneAtATimeOnItsThread) {
  SerialRunner runner;
  std::vector<int> order;
  std::atomic<int> inside{0};
  bool overlapped = false;
  std::vector<std::thread::id> ran_on;
  std::vector<std::shared_ptr<SerialRunner::Job>> jobs;
  for (int i = 0; i < 8; i++) {
    jobs.push_back(runner.submit([&, i](double) {
      if (inside.fetch_add(1) != 0) overlapped = true;
      order.push_back(i);
      ran_on.push_back(std::this_thread::get_id());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      inside.fetch_sub(1);
    }));
  }
  std::vector<std::thread> waiters;
  for (int i = 7; i >= 0; i--) waiters.emplace_back([&, i] { runner.wait(jobs[i]); });  // waited for in reverse
  for (auto& t : waiters) t.join();
  EXPECT_FALSE(overlapped);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  for (const auto& id : ran_on) {
    EXPECT_EQ(id, ran_on[0]);
    EXPECT_NE(id, std::this_thread::get_id());
  }
}

TEST(SerialRunner, ReportsTheIdleTimeBeforeEachJob) {
  SerialRunner runner;
  auto first = runner.submit([](double) { std::this_thread::sleep_for(std::chrono::milliseconds(30)); });
  double seen_by_job = -1;
  auto queued = runner.submit([&](double idle_us) { seen_by_job = idle_us; });  // waits behind `first`
  EXPECT_EQ(runner.wait(first), 0.0);  // nothing ran before it
  const double queued_idle = runner.wait(queued);
  std::this_thread::sleep_for(std::chrono::milliseconds(40));  // the runner idles
  const double late_idle = runner.wait(runner.submit([](double) {}));
  EXPECT_GE(queued_idle, 0.0);
  EXPECT_LT(queued_idle, 20000.0);  // back to back, not the 30 ms it waited (generous for loaded CI)
  EXPECT_GE(late_idle, 35000.0);
  EXPECT_EQ(seen_by_job, queued_idle);  // the job is told what wait() reports
}

TEST(SerialRunner, ThenRunsOnTheRunnerAfterTheJobEndedAndBeforeTheNextJob) {
  SerialRunner runner;
  std::vector<std::string> events;  // only the runner's thread appends
  std::thread::id then_on;
  std::shared_ptr<SerialRunner::Job> first;
  bool first_done_in_then = false;
  std::promise<void> go;  // holds the runner until `first` is assigned below
  runner.submit([f = go.get_future().share()](double) { f.wait(); });
  first = runner.submit([&](double) { events.push_back("job 1"); },
                        [&] {
                          events.push_back("then 1");
                          then_on = std::this_thread::get_id();
                          first_done_in_then = first->done;  // the job already counts as ended
                        });
  auto second = runner.submit([&](double) { events.push_back("job 2"); });
  go.set_value();
  runner.wait(second);
  EXPECT_EQ(events, (std::vector<std::string>{"job 1", "then 1", "job 2"}));
  EXPECT_TRUE(first_done_in_then);
  EXPECT_NE(then_on, std::this_thread::get_id());
}

TEST(SerialRunner, QueuedCountsTheJobsNotYetStarted) {
  std::vector<size_t> seen_in_then;  // only the runner's thread appends
  {
    SerialRunner runner;
    std::promise<void> started, go;  // the first job says it started, then waits for go
    runner.submit([&started, f = go.get_future().share()](double) { started.set_value(); f.wait(); },
                  [&] { seen_in_then.push_back(runner.queued()); });
    std::shared_ptr<SerialRunner::Job> last;
    for (int i = 0; i < 3; i++) last = runner.submit([](double) {}, [&] { seen_in_then.push_back(runner.queued()); });
    started.get_future().wait();
    EXPECT_EQ(runner.queued(), 3u);  // the first job has started; three wait behind it
    go.set_value();
    runner.wait(last);
    EXPECT_EQ(runner.queued(), 0u);
  }  // the destructor ends the thread after the last `then`
  // each job's `then` sees the jobs that will run after it
  EXPECT_EQ(seen_in_then, (std::vector<size_t>{3, 2, 1, 0}));
}

TEST(SerialRunner, TheDestructorRunsWhatIsQueued) {
  std::atomic<int> ran{0};
  {
    SerialRunner runner;
    for (int i = 0; i < 5; i++) runner.submit([&](double) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ran++;
    });
  }
  EXPECT_EQ(ran.load(), 5);
}

}  // namespace
}  // namespace tpserve
