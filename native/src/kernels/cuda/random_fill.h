// Device-side random fills for benchmarks and GPU tests: uniform values in [lo, hi) from a
// counter hash (splitmix64 of seed and index), so tens of GB of weights or KV cache are
// initialised in milliseconds without curand and without host traffic. Never zeros (see
// METHOD.md: zeros hide unwritten outputs and time faster than real data).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "tpserve/dtype.h"

namespace tpserve::cuda {
// data: [n] of dtype on the device; queued on `stream`.
void random_fill(void* data, DType dtype, int64_t n, uint64_t seed, float lo, float hi, cudaStream_t stream);
}  // namespace tpserve::cuda
