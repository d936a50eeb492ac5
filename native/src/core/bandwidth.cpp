// Read-bandwidth probe: a parallel sum over a large buffer (AVX-512/AVX2 when present, else
// portable code the compiler vectorises), best of several passes.
#include "tpserve/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "tpserve/tensor.h"
#include "tpserve/thread_pool.h"

namespace tpserve {
namespace {

__attribute__((target_clones("avx512f", "avx2", "default"))) double sum_range(const float* p, int64_t n) {
  float acc[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; j++) acc[j] += p[i + j];
  double total = 0;
  for (int j = 0; j < 16; j++) total += acc[j];
  for (; i < n; i++) total += p[i];
  return total;
}

}  // namespace

double measure_read_bandwidth_gbps(size_t bytes, int repeats) {
  const int64_t n = static_cast<int64_t>(bytes / sizeof(float));
  Tensor buffer = Tensor::empty_cpu(DType::F32, {n});
  float* data = buffer.ptr<float>();
  ThreadPool& pool = default_pool();
  pool.parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) data[i] = static_cast<float>(i & 1023);
  });
  double best = 0, sink = 0;
  for (int r = 0; r < repeats; r++) {
    std::mutex mutex;
    double total = 0;
    auto start = std::chrono::steady_clock::now();
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      double s = sum_range(data + b, e - b);
      std::lock_guard<std::mutex> lock(mutex);
      total += s;
    }, 1 << 16);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sink += total;
    best = std::max(best, static_cast<double>(bytes) / seconds / 1e9);
  }
  if (sink == -1.0) best += 0;  // keep the sums observable
  return best;
}

}  // namespace tpserve
