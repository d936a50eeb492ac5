// Tensor helpers: owned CPU allocation, sizes, row views.
#include "tpserve/tensor.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "tpserve/host_arena.h"

namespace tpserve {

Tensor Tensor::empty_cpu(DType dtype, std::vector<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    TPS_CHECK(d >= 0, "negative dimension in tensor shape");
    count *= d;
  }
  size_t bytes = static_cast<size_t>(count) * dtype_size(dtype);
  if (HostArena* arena = HostArenaScope::current()) {  // a model's weights: see host_arena.h
    std::shared_ptr<void> block = arena->allocate(bytes);
    void* p = block.get();
    return Tensor(p, dtype, std::move(shape), Device{}, std::move(block));
  }
  if (bytes >= (size_t{1} << 20)) {
    // Large buffers (weights, KV cache, workspaces): anonymous pages are zero and cost nothing until
    // touched. Transparent huge pages asked for (advice only: ignored where THP is off): one TLB
    // entry per 2 MiB instead of 512 while decode streams the weights; measured +5-10 % on the read
    // bandwidth probe and a 3-8 % shorter batch-1 decode step (docs/benchmarks.md).
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TPS_CHECK(p != MAP_FAILED, "out of memory mapping ", bytes, " bytes");
    madvise(p, bytes, MADV_HUGEPAGE);
    std::shared_ptr<void> owner(p, [bytes](void* q) { munmap(q, bytes); });
    return Tensor(p, dtype, std::move(shape), Device{}, std::move(owner));
  }
  size_t rounded = ((bytes + 63) / 64) * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  TPS_CHECK(p != nullptr, "out of memory allocating ", bytes, " bytes");
  std::memset(p, 0, rounded == 0 ? 64 : rounded);
  std::shared_ptr<void> owner(p, [](void* q) { std::free(q); });
  return Tensor(p, dtype, std::move(shape), Device{}, std::move(owner));
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_) n *= d;
  return n;
}

std::string Tensor::shape_string() const {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape_.size(); i++) os << (i ? ", " : "") << shape_[i];
  os << "]";
  return os.str();
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  TPS_CHECK(rank() >= 1 && begin >= 0 && begin <= end && end <= shape_[0], "row range [", begin, ", ", end,
            ") out of bounds for shape ", shape_string());
  std::vector<int64_t> shape = shape_;
  shape[0] = end - begin;
  size_t row_bytes = dtype_size(dtype_);
  for (size_t i = 1; i < shape_.size(); i++) row_bytes *= static_cast<size_t>(shape_[i]);
  return Tensor(static_cast<char*>(data_) + row_bytes * static_cast<size_t>(begin), dtype_, shape, device_, owner_);
}

}  // namespace tpserve
