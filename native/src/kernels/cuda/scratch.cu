// Per-thread scratch buffers of the CUDA launchers (see scratch.cuh) and the cached device facts.
#include <map>
#include <utility>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/scratch.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

struct Buffer {
  void* ptr = nullptr;
  size_t bytes = 0;
};

struct ThreadScratch {
  std::map<std::pair<int, int>, Buffer> device;  // (device, slot) -> buffer
  Buffer host[static_cast<int>(ScratchSlot::Count)];
  ~ThreadScratch() {  // errors ignored: the context may already be gone at process exit
    for (auto& [key, b] : device) cudaFree(b.ptr);
    for (auto& b : host) cudaFreeHost(b.ptr);
  }
};

ThreadScratch& thread_scratch() {
  thread_local ThreadScratch s;
  return s;
}

size_t round_up(size_t bytes) { return std::max<size_t>(size_t(1) << 16, (bytes + 0xffff) & ~size_t(0xffff)); }

}  // namespace

void* scratch_device(ScratchSlot slot, size_t bytes) {
  int dev = 0;
  TPS_CUDA_CHECK(cudaGetDevice(&dev));
  Buffer& b = thread_scratch().device[{dev, static_cast<int>(slot)}];
  if (b.bytes >= bytes && b.ptr) return b.ptr;
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  TPS_CUDA_CHECK(cudaStreamIsCapturing(current_stream(), &capture));
  if (capture != cudaStreamCaptureStatusNone) return nullptr;
  TPS_CUDA_CHECK(cudaStreamSynchronize(current_stream()));  // queued kernels may still use the old one
  if (b.ptr) TPS_CUDA_CHECK(cudaFree(b.ptr));
  b = Buffer{};
  const size_t want = round_up(bytes + bytes / 4);
  TPS_CUDA_CHECK(cudaMalloc(&b.ptr, want));
  b.bytes = want;
  return b.ptr;
}

void* scratch_host(ScratchSlot slot, size_t bytes) {
  Buffer& b = thread_scratch().host[static_cast<int>(slot)];
  if (b.bytes >= bytes && b.ptr) return b.ptr;
  TPS_CUDA_CHECK(cudaStreamSynchronize(current_stream()));  // a queued copy may still read it
  if (b.ptr) TPS_CUDA_CHECK(cudaFreeHost(b.ptr));
  b = Buffer{};
  const size_t want = round_up(bytes + bytes / 4);
  TPS_CUDA_CHECK(cudaMallocHost(&b.ptr, want));
  b.bytes = want;
  return b.ptr;
}

int num_sms() {
  thread_local std::map<int, int> cache;
  int dev = 0;
  TPS_CUDA_CHECK(cudaGetDevice(&dev));
  auto it = cache.find(dev);
  if (it != cache.end()) return it->second;
  int n = 0;
  TPS_CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
  cache[dev] = n;
  return n;
}

}  // namespace tpserve::cuda
