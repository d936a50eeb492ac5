// SerialRunner: one thread of its own runs the submitted jobs strictly in submission order, back
// to back: a job submitted while another runs starts on the same thread the moment that one
// ends, with no other thread to wake in between (a wake-up on a busy machine can take
// milliseconds). The binding submits each engine step on the JS thread when it is called, so a
// step sent before the previous one ended (async scheduling) follows it at once, and hands the
// result to the JS thread from a job's `then`. Each job learns how long the runner sat idle before
// it (passed to the job, and returned by wait(), which only the tests use). Jobs must not throw
// (they report errors themselves). Tests: native/tests/serial_runner_test.cpp.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace tpserve {

class SerialRunner {
 public:
  struct Job {
    // Called with the runner's idle time before it, microseconds.
    std::function<void(double idle_us)> fn;
    // Optional: called on the runner's thread once the job counts as ended (its end is the start
    // of the idle time the next job reports). For hand-offs that may make the next job arrive.
    std::function<void()> then;
    bool done = false;
    // The runner's idle time before the job started, microseconds (0 for its first job).
    double idle_us = 0;
  };

  SerialRunner() : thread_([this] { loop(); }) {}
  SerialRunner(const SerialRunner&) = delete;
  SerialRunner& operator=(const SerialRunner&) = delete;

  // Runs what is queued, then stops the thread.
  ~SerialRunner() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    queued_.notify_all();
    thread_.join();
  }

  // Queues `fn` behind every job submitted before it.
  std::shared_ptr<Job> submit(std::function<void(double idle_us)> fn, std::function<void()> then = nullptr) {
    auto job = std::make_shared<Job>();
    job->fn = std::move(fn);
    job->then = std::move(then);
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(job);
    }
    queued_.notify_one();
    return job;
  }

  // Jobs submitted and not yet started (from a job's `then`: those that will run after it).
  size_t queued() {
    std::lock_guard<std::mutex> lock(mu_);
    return jobs_.size();
  }

  // Blocks until `job` ran; returns the runner's idle time before it (microseconds).
  double wait(const std::shared_ptr<Job>& job) {
    std::unique_lock<std::mutex> lock(mu_);
    ran_.wait(lock, [&] { return job->done; });
    return job->idle_us;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      queued_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      std::shared_ptr<Job> job = jobs_.front();
      jobs_.pop_front();
      const auto start = std::chrono::steady_clock::now();
      const double idle_us = has_run_ ? std::chrono::duration<double, std::micro>(start - last_end_).count() : 0.0;
      lock.unlock();
      job->fn(idle_us);
      lock.lock();
      last_end_ = std::chrono::steady_clock::now();
      has_run_ = true;
      job->idle_us = idle_us;
      job->done = true;
      ran_.notify_all();
      if (job->then) {
        lock.unlock();
        job->then();
        lock.lock();
      }
    }
  }

  std::mutex mu_;
  std::condition_variable queued_;
  std::condition_variable ran_;
  std::deque<std::shared_ptr<Job>> jobs_;
  bool stopping_ = false;
  bool has_run_ = false;
  std::chrono::steady_clock::time_point last_end_;
  std::thread thread_;  // last: starts once everything above is built
};

}  // namespace tpserve
