// Per-stream scratch buffers of the CUDA launchers (see scratch.cuh) and the cached device facts.
#include <map>
#include <mutex>
#include <set>
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

struct StreamScratch {
  Buffer device[static_cast<int>(ScratchSlot::Count)];
  Buffer host[static_cast<int>(ScratchSlot::Count)];
  uint64_t generation = 0;
  void free_all() {  // errors ignored: the context may already be gone at process exit
    for (auto& b : device) cudaFree(b.ptr), b = Buffer{};
    for (auto& b : host) cudaFreeHost(b.ptr), b = Buffer{};
  }
};

using Key = std::pair<int, cudaStream_t>;  // (device, stream)

struct Registry {
  std::mutex mutex;
  std::map<Key, StreamScratch> streams;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: a backend may release its stream at exit
  return *r;
}

int current_device() {
  int dev = 0;
  TPS_CUDA_CHECK(cudaGetDevice(&dev));
  return dev;
}

size_t round_up(size_t bytes) { return std::max<size_t>(size_t(1) << 16, (bytes + 0xffff) & ~size_t(0xffff)); }

}  // namespace

void* scratch_device(ScratchSlot slot, size_t bytes) {
  cudaStream_t stream = current_stream();
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  StreamScratch& s = r.streams[{current_device(), stream}];
  Buffer& b = s.device[static_cast<int>(slot)];
  if (b.bytes >= bytes && b.ptr) return b.ptr;
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  TPS_CUDA_CHECK(cudaStreamIsCapturing(stream, &capture));
  if (capture != cudaStreamCaptureStatusNone) return nullptr;
  TPS_CUDA_CHECK(cudaStreamSynchronize(stream));  // queued kernels may still use the old one
  if (b.ptr) TPS_CUDA_CHECK(cudaFree(b.ptr));
  b = Buffer{};
  s.generation++;
  const size_t want = round_up(bytes + bytes / 4);
  TPS_CUDA_CHECK(cudaMalloc(&b.ptr, want));
  b.bytes = want;
  return b.ptr;
}

void* scratch_host(ScratchSlot slot, size_t bytes) {
  cudaStream_t stream = current_stream();
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  Buffer& b = r.streams[{current_device(), stream}].host[static_cast<int>(slot)];
  if (b.bytes >= bytes && b.ptr) return b.ptr;
  TPS_CUDA_CHECK(cudaStreamSynchronize(stream));  // a queued copy may still read it
  if (b.ptr) TPS_CUDA_CHECK(cudaFreeHost(b.ptr));
  b = Buffer{};
  const size_t want = round_up(bytes + bytes / 4);
  TPS_CUDA_CHECK(cudaMallocHost(&b.ptr, want));
  b.bytes = want;
  return b.ptr;
}

uint64_t scratch_generation(cudaStream_t stream) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.streams.find({current_device(), stream});
  return it == r.streams.end() ? 0 : it->second.generation;
}

void release_scratch(cudaStream_t stream) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.streams.find({current_device(), stream});
  if (it == r.streams.end()) return;
  cudaStreamSynchronize(stream);
  it->second.free_all();
  r.streams.erase(it);
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

void allow_dynamic_smem(const void* kernel, size_t bytes) {
  static std::mutex mu;
  static std::set<std::pair<const void*, int>> done;
  const int dev = current_device();
  std::lock_guard<std::mutex> lock(mu);
  if (!done.insert({kernel, dev}).second) return;
  const cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  if (e != cudaSuccess) done.erase({kernel, dev});
  TPS_CUDA_CHECK(e);
}

}  // namespace tpserve::cuda
