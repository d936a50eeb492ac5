// ThreadPool: a fixed set of threads running parallel_for over index ranges.
// The calling thread takes part, so a pool of size 1 runs everything inline. Callers from
// several threads (two engines in one process) are served one job at a time; a parallel_for
// issued from inside a job runs inline on that thread.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tpserve/function_ref.h"

namespace tpserve {

class ThreadPool {
 public:
  // num_threads <= 0 picks the number of hardware threads.
  explicit ThreadPool(int num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Splits [0, n) into contiguous chunks (each at least min_chunk long) and runs
  // fn(begin, end) for each, on the pool and the calling thread; returns when all are done.
  // The first exception thrown by fn is rethrown here.
  void parallel_for(int64_t n, FunctionRef<void(int64_t, int64_t)> fn, int64_t min_chunk = 1);

  // Runs fn(thread_index) once on every thread of the pool (index 0 is the caller).
  void run_on_all(FunctionRef<void(int)> fn);

 private:
  void worker_loop(int index);
  void run_share(int index);  // one thread's fn(index), its exception kept in error_

  static constexpr auto kNoJob = [](int) {};
  // What a worker needs to start a job, in the one cache line it polls: a worker that sees the
  // new generation has the job with it (each further line it must fetch from the caller's core
  // costs a cross-core transfer: ~0.25 µs on the 2-vCPU development VM).
  struct alignas(64) Job {
    std::atomic<uint64_t> generation{0};
    FunctionRef<void(int)> fn{kNoJob};  // the caller's callable lives until every worker is done
  };
  // A worker's last finished generation, one line each: the caller polls them at the join.
  struct alignas(64) Done {
    std::atomic<uint64_t> generation{0};
  };

  Job job_;
  std::vector<std::thread> workers_;
  std::unique_ptr<Done[]> done_;  // [workers_.size()]
  std::mutex run_mutex_;          // one job at a time
  // Workers spin on job_.generation for a short while after each job (a forward pass issues
  // hundreds of small jobs back to back), then sleep on wake_; the caller takes mutex_ and
  // notifies only when sleepers_ says one sleeps.
  alignas(64) std::atomic<int> sleepers_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::mutex error_mutex_;
  std::exception_ptr error_;       // the first exception of the running job
  std::atomic<bool> failed_{false};  // error_ is set: the caller reads it only then
};

// The pool CPU kernels run on: the calling thread's pool when one is bound (each CPU engine binds
// its own, so engines of different sizes can share a process), else the process-wide pool.
// set_num_threads swaps in a process-wide pool of another size; the old one stays alive (jobs
// already running on it finish safely).
ThreadPool& default_pool();
void set_num_threads(int num_threads);
// Binds `pool` (nullptr: none) to the calling thread; returns the previous binding.
ThreadPool* bind_thread_pool(ThreadPool* pool);

}  // namespace tpserve
