// RopeTable: cos and sin of every rotary angle position * inv_freq[j], computed in double
// precision on the host once per position and kept fp32 on the backend's device as two
// [capacity, head_dim / 2] tables, row p for position p (read by rope_kv_write at each token's
// position: no trigonometry per step). Grown on demand to the next power of two past the
// largest position seen (at least 4096 rows), so memory follows the context actually used:
// Seed-OSS's 524,288 positions at head_dim 128 would take 256 MiB, a 4K context 2 MiB.
#pragma once
#include <cstdint>
#include <vector>

#include "tpserve/backend.h"

namespace tpserve {

class RopeTable {
 public:
  RopeTable(Backend& backend, std::vector<double> inv_freq);

  // Makes rows [0, max_position] available; returns true when the tables moved (reallocated).
  bool ensure(int64_t max_position);

  const float* cos() const { return cos_.ptr<float>(); }
  const float* sin() const { return sin_.ptr<float>(); }
  int64_t capacity() const { return capacity_; }

 private:
  Backend& backend_;
  std::vector<double> inv_freq_;  // [head_dim / 2]
  Tensor cos_, sin_;              // [capacity, head_dim / 2] f32 on the device
  int64_t capacity_ = 0;
};

}  // namespace tpserve
