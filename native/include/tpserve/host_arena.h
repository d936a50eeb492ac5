// HostArena: the CPU weights of a model carved back to back out of 2 MiB-aligned chunks advised as
// transparent huge pages. A buffer of its own is huge-page backed only in its whole 2 MiB pages:
// the 246M model's int4 weights (most under 2 MiB each) and the tails of the bf16 ones stayed on
// 4 KiB pages, ~80 % of bf16's bytes and a minority of int4's in huge pages. Measured, the GEMVs
// of a b1 step with every weight in huge pages: int4 1.72-1.77 ms against 1.90-2.11, bf16
// 6.97-7.55 against 7.73-7.99 (docs/benchmarks.md). Allocations are 64-byte aligned and zero;
// space is never reused (weights live as long as the model), and each block keeps its chunk
// mapped until the last tensor in it is gone.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>

namespace tpserve {

class HostArena {
 public:
  explicit HostArena(size_t chunk_bytes = size_t{32} << 20) : chunk_bytes_(chunk_bytes) {}
  // `bytes` (0 allowed) zeroed, 64-byte aligned; the pointer owns a share of its chunk.
  std::shared_ptr<void> allocate(size_t bytes);
  // Address space mapped so far (chunks still alive or not).
  size_t mapped_bytes() const { return mapped_; }

 private:
  const size_t chunk_bytes_;
  std::mutex mutex_;
  std::shared_ptr<void> chunk_;  // the chunk being filled
  char* next_ = nullptr;
  size_t left_ = 0;
  size_t mapped_ = 0;
};

// While alive, Tensor::empty_cpu on this thread allocates from `arena` (nullptr: the usual
// allocation); the scope before it comes back when it ends.
class HostArenaScope {
 public:
  explicit HostArenaScope(HostArena* arena);
  ~HostArenaScope();
  HostArenaScope(const HostArenaScope&) = delete;
  HostArenaScope& operator=(const HostArenaScope&) = delete;
  static HostArena* current();

 private:
  HostArena* previous_;
};

}  // namespace tpserve
