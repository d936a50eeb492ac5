// commit_pages: makes the kernel back a fresh anonymous mapping with real (zero) pages now, by
// writing one zero byte per 4 KiB page from the pool's threads, instead of on first use. The CPU
// backend commits every device allocation this way, as cudaMalloc does on a GPU: the KV cache's
// huge pages were otherwise faulted in by the first requests that reached each 2 MiB of it, at up
// to ~3 ms a fault on the development VM, whose kernel zeroes memory the guest never touched
// slowly (32 faults, one per layer's K and V, in one step; measured in docs/benchmarks.md).
#pragma once
#include <cstddef>

namespace tpserve {

class ThreadPool;

// Writes 0 to the first byte of every 4 KiB page of [data, data + bytes): only for memory that
// holds zeros (a fresh anonymous mapping) or whose first bytes may be overwritten.
void commit_pages(void* data, size_t bytes, ThreadPool& pool);

}  // namespace tpserve
