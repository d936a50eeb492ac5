// Memory read bandwidth of this machine, measured with the engine's own thread pool: the
// yardstick for decode benchmarks (batch-1 decode cannot beat weight bytes / bandwidth).
#pragma once
#include <cstddef>

namespace tpserve {

// Streams a buffer of `bytes` (default 1 GiB) `repeats` times with all pool threads and
// returns the best observed read bandwidth in GB/s (1e9 bytes per second).
double measure_read_bandwidth_gbps(size_t bytes = size_t{1} << 30, int repeats = 5);

}  // namespace tpserve
