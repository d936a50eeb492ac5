// ThreadPool: persistent threads that pick up jobs by watching a generation counter, spinning
// briefly between jobs and sleeping on a condition variable when idle. A job costs the workers one
// cache-line fetch to start (generation and callable in one line) and each one store to finish
// (its own line, polled by the caller).
#include "tpserve/thread_pool.h"

#include <algorithm>
#include <chrono>

#include "core/cpu_relax.h"

namespace tpserve {
namespace {
thread_local bool inside_job = false;

// How long an idle thread busy-waits for the next job before sleeping.
constexpr auto kSpinFor = std::chrono::microseconds(200);
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = std::max(1u, std::thread::hardware_concurrency());
  done_ = std::make_unique<Done[]>(static_cast<size_t>(num_threads - 1));
  for (int i = 1; i < num_threads; i++) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_share(int index) {
  inside_job = true;
  try {
    job_.fn(index);
  } catch (...) {
    std::lock_guard<std::mutex> lock(error_mutex_);
    if (!error_) error_ = std::current_exception();
    failed_.store(true, std::memory_order_relaxed);  // published by the done store / the join
  }
  inside_job = false;
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  Done& done = done_[static_cast<size_t>(index - 1)];
  for (;;) {
    auto spin_start = std::chrono::steady_clock::now();
    uint64_t spins = 0;
    while (job_.generation.load(std::memory_order_acquire) == seen && !stopping_.load(std::memory_order_relaxed)) {
      if ((++spins & 255) != 0 || std::chrono::steady_clock::now() - spin_start < kSpinFor) {
        cpu_relax();
        continue;
      }
      std::unique_lock<std::mutex> lock(mutex_);
      // Counted before the generation is read again (both sequentially consistent): a caller that
      // publishes a job either is seen here or sees this sleeper and notifies (run_on_all).
      sleepers_.fetch_add(1);
      wake_.wait(lock, [&] { return stopping_.load() || job_.generation.load() != seen; });
      sleepers_.fetch_sub(1);
      spin_start = std::chrono::steady_clock::now();
    }
    if (stopping_.load()) return;
    seen = job_.generation.load(std::memory_order_acquire);
    run_share(index);
    done.generation.store(seen, std::memory_order_release);
  }
}

void ThreadPool::run_on_all(FunctionRef<void(int)> fn) {
  if (workers_.empty() || inside_job) {  // nested: this thread already holds a share of a job
    for (int i = 0; i < num_threads(); i++) fn(i);
    return;
  }
  std::lock_guard<std::mutex> serial(run_mutex_);
  job_.fn = fn;
  const uint64_t generation = job_.generation.load(std::memory_order_relaxed) + 1;
  job_.generation.store(generation);  // sequentially consistent: ordered before the sleepers_ load
  if (sleepers_.load() > 0) {
    // Taken so that a worker between counting itself and waiting is already waiting when notified.
    { std::lock_guard<std::mutex> lock(mutex_); }
    wake_.notify_all();
  }
  run_share(0);
  for (size_t w = 0; w < workers_.size(); w++) {
    uint64_t spins = 0;
    while (done_[w].generation.load(std::memory_order_acquire) != generation) {
      if (++spins < (1u << 16)) cpu_relax();
      else std::this_thread::yield();
    }
  }
  if (!failed_.load(std::memory_order_relaxed)) return;  // the usual case: no lock per job
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(error_mutex_);
    std::swap(error, error_);
    failed_.store(false, std::memory_order_relaxed);
  }
  std::rethrow_exception(error);
}

void ThreadPool::parallel_for(int64_t n, FunctionRef<void(int64_t, int64_t)> fn, int64_t min_chunk) {
  if (n <= 0) return;
  int64_t threads = num_threads();
  int64_t max_chunks = std::max<int64_t>(1, n / std::max<int64_t>(1, min_chunk));
  int64_t chunks = std::min(threads, max_chunks);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  run_on_all([&](int i) {
    if (i >= chunks) return;
    int64_t begin = n * i / chunks;
    int64_t end = n * (i + 1) / chunks;
    if (begin < end) fn(begin, end);
  });
}

namespace {
std::mutex& pools_mutex() {
  static std::mutex m;
  return m;
}
// Every pool ever made stays alive: a swapped-out pool may still be finishing a job.
std::vector<std::unique_ptr<ThreadPool>>& all_pools() {
  static std::vector<std::unique_ptr<ThreadPool>> pools;
  return pools;
}
std::atomic<ThreadPool*>& current_pool() {
  static std::atomic<ThreadPool*> pool{nullptr};
  return pool;
}
int resolve_threads(int n) { return n > 0 ? n : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }
}  // namespace

namespace {
thread_local ThreadPool* bound_pool = nullptr;
}  // namespace

ThreadPool* bind_thread_pool(ThreadPool* pool) {
  ThreadPool* previous = bound_pool;
  bound_pool = pool;
  return previous;
}

ThreadPool& default_pool() {
  if (bound_pool) return *bound_pool;
  ThreadPool* pool = current_pool().load();
  if (pool) return *pool;
  set_num_threads(0);
  return *current_pool().load();
}

void set_num_threads(int num_threads) {
  const int wanted = resolve_threads(num_threads);
  std::lock_guard<std::mutex> lock(pools_mutex());
  ThreadPool* pool = current_pool().load();
  if (pool && pool->num_threads() == wanted) return;
  for (auto& p : all_pools()) {
    if (p->num_threads() == wanted) {
      current_pool().store(p.get());
      return;
    }
  }
  all_pools().push_back(std::make_unique<ThreadPool>(wanted));
  current_pool().store(all_pools().back().get());
}

}  // namespace tpserve
