// commit_pages (tpserve/commit_pages.h): the pages split over the pool in contiguous ranges.
#include "tpserve/commit_pages.h"

#include <cstdint>

#include "tpserve/thread_pool.h"

namespace tpserve {
namespace {

constexpr size_t kPage = 4096;
// Pages a thread takes at least: one 2 MiB huge page.
constexpr int64_t kMinPagesPerChunk = 512;

}  // namespace

void commit_pages(void* data, size_t bytes, ThreadPool& pool) {
  if (data == nullptr || bytes == 0) return;
  auto* base = static_cast<volatile char*>(data);
  const int64_t pages = static_cast<int64_t>((bytes + kPage - 1) / kPage);
  pool.parallel_for(
      pages,
      [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; p++) base[static_cast<size_t>(p) * kPage] = 0;
      },
      kMinPagesPerChunk);
}

}  // namespace tpserve
