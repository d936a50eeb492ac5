// KvCache: allocation of the per-layer paged K/V tensors on the backend's device.
#include "model/kv_cache.h"

namespace tpserve {

size_t KvCache::bytes_per_block(int64_t num_layers, const KvLayout& layout, DType dtype) {
  return 2 * static_cast<size_t>(num_layers) * static_cast<size_t>(layout.num_kv_heads) *
         static_cast<size_t>(layout.block_size) * static_cast<size_t>(layout.head_dim) * dtype_size(dtype);
}

KvCache::KvCache(Backend& backend, int64_t num_layers, const KvLayout& layout, DType dtype,
                 const std::function<void(int64_t, int64_t)>& progress)
    : layout_(layout), dtype_(dtype) {
  TPS_CHECK(layout.num_blocks > 0, "the KV cache needs at least one block (got ", layout.num_blocks, ")");
  TPS_CHECK(layout.block_size > 0, "KV block size must be positive (got ", layout.block_size, ")");
  std::vector<int64_t> shape{layout.num_blocks, layout.num_kv_heads, layout.block_size, layout.head_dim};
  for (int64_t i = 0; i < num_layers; i++) {
    k_.push_back(backend.alloc(dtype, shape));
    v_.push_back(backend.alloc(dtype, shape));
    if (progress) progress(i + 1, num_layers);
  }
}

}  // namespace tpserve
