// HostArena (tpserve/host_arena.h): chunks mapped anonymous (zero), aligned to 2 MiB by mapping
// 2 MiB more and trimming, advised MADV_HUGEPAGE; blocks bumped out of them.
#include "tpserve/host_arena.h"

#include <sys/mman.h>

#include <cstdint>

#include "tpserve/error.h"

namespace tpserve {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kAlign = 64;

thread_local HostArena* current_arena = nullptr;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

std::shared_ptr<void> HostArena::allocate(size_t bytes) {
  const size_t need = round_up(bytes == 0 ? kAlign : bytes, kAlign);
  std::lock_guard<std::mutex> lock(mutex_);
  if (need > left_) {
    const size_t size = round_up(need > chunk_bytes_ ? need : chunk_bytes_, kHugePage);
    void* raw = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TPS_CHECK(raw != MAP_FAILED, "out of memory mapping ", size, " bytes for weights");
    char* base = reinterpret_cast<char*>(round_up(reinterpret_cast<uintptr_t>(raw), kHugePage));
    madvise(base, size, MADV_HUGEPAGE);  // advice only: ignored where THP is off
    const size_t total = size + kHugePage;
    chunk_ = std::shared_ptr<void>(base, [raw, total](void*) { munmap(raw, total); });
    next_ = base;
    left_ = size;
    mapped_ += total;
  }
  std::shared_ptr<void> block(chunk_, next_);  // shares the chunk's ownership
  next_ += need;
  left_ -= need;
  return block;
}

HostArenaScope::HostArenaScope(HostArena* arena) : previous_(current_arena) { current_arena = arena; }
HostArenaScope::~HostArenaScope() { current_arena = previous_; }
HostArena* HostArenaScope::current() { return current_arena; }

}  // namespace tpserve
