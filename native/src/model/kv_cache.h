// KvCache: this rank's paged K and V storage, one pair of tensors per layer, each
// [num_blocks, num_kv_heads_local, block_size, head_dim]. Block ids are chosen by the coordinator.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "tpserve/attention_batch.h"
#include "tpserve/backend.h"

namespace tpserve {

class KvCache {
 public:
  // progress(layers allocated, num_layers) after each layer's K and V (the CPU backend commits
  // their pages as it allocates them: 512 MiB took ~0.6 s on the development VM).
  KvCache(Backend& backend, int64_t num_layers, const KvLayout& layout, DType dtype,
          const std::function<void(int64_t, int64_t)>& progress = nullptr);

  // Bytes one block takes over all layers (K and V).
  static size_t bytes_per_block(int64_t num_layers, const KvLayout& layout, DType dtype);

  const KvLayout& layout() const { return layout_; }
  DType dtype() const { return dtype_; }
  void* k(int64_t layer) const { return k_.at(layer).data(); }
  void* v(int64_t layer) const { return v_.at(layer).data(); }

 private:
  KvLayout layout_;
  DType dtype_;
  std::vector<Tensor> k_, v_;
};

}  // namespace tpserve
