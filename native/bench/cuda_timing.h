// Timing helpers of the GPU benchmarks (seed_oss_bench, quantized_linear_bench): the median of a
// sample, and the median seconds of a piece of stream work timed with CUDA events.
#pragma once
#include <cuda_runtime_api.h>

#include <algorithm>
#include <vector>

#include "kernels/cuda/cuda_check.cuh"

namespace tpserve::bench {

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median seconds of `reps` runs of fn on `stream`, timed with events, after `warmup` runs.
template <typename Fn>
double time_events(cudaStream_t stream, int warmup, int reps, Fn&& fn) {
  for (int i = 0; i < warmup; i++) fn();
  cudaEvent_t a, b;
  TPS_CUDA_CHECK(cudaEventCreate(&a));
  TPS_CUDA_CHECK(cudaEventCreate(&b));
  std::vector<double> t;
  for (int i = 0; i < reps; i++) {
    TPS_CUDA_CHECK(cudaEventRecord(a, stream));
    fn();
    TPS_CUDA_CHECK(cudaEventRecord(b, stream));
    TPS_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    TPS_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms * 1e-3);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return median(t);
}

}  // namespace tpserve::bench
