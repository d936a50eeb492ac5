// RopeTable (see rope_table.h): growth copies the rows already computed on the device and
// computes only the new positions on the host. Tests: tests/rope_table_test.cpp.
#include "model/rope_table.h"

#include <cmath>
#include <utility>

#include "tpserve/error.h"

namespace tpserve {
namespace {
constexpr int64_t kMinRows = 4096;
constexpr int64_t kMaxPosition = int64_t(1) << 30;
}  // namespace

RopeTable::RopeTable(Backend& backend, std::vector<double> inv_freq)
    : backend_(backend), inv_freq_(std::move(inv_freq)) {
  TPS_CHECK(!inv_freq_.empty(), "RopeTable: no rotary frequencies");
}

bool RopeTable::ensure(int64_t max_position) {
  TPS_CHECK(max_position >= 0 && max_position < kMaxPosition, "RopeTable: position ", max_position, " outside [0, ",
            kMaxPosition, ")");
  if (max_position < capacity_) return false;
  int64_t rows = kMinRows;
  while (rows <= max_position) rows *= 2;
  const int64_t half = static_cast<int64_t>(inv_freq_.size());
  Tensor cos = backend_.alloc(DType::F32, {rows, half}), sin = backend_.alloc(DType::F32, {rows, half});
  const size_t old_bytes = static_cast<size_t>(capacity_ * half) * sizeof(float);
  if (capacity_ > 0) {  // keep the rows already computed
    backend_.copy_2d(cos.data(), old_bytes, cos_.data(), old_bytes, old_bytes, 1);
    backend_.copy_2d(sin.data(), old_bytes, sin_.data(), old_bytes, old_bytes, 1);
  }
  // New rows in double precision: positions reach 500k, where a float angle loses the phase.
  std::vector<float> c(static_cast<size_t>((rows - capacity_) * half)), s(c.size());
  for (int64_t p = capacity_; p < rows; p++)
    for (int64_t j = 0; j < half; j++) {
      const double angle = static_cast<double>(p) * inv_freq_[j];
      c[(p - capacity_) * half + j] = static_cast<float>(std::cos(angle));
      s[(p - capacity_) * half + j] = static_cast<float>(std::sin(angle));
    }
  backend_.copy_to_device(static_cast<char*>(cos.data()) + old_bytes, c.data(), c.size() * sizeof(float));
  backend_.copy_to_device(static_cast<char*>(sin.data()) + old_bytes, s.data(), s.size() * sizeof(float));
  cos_ = std::move(cos);
  sin_ = std::move(sin);
  capacity_ = rows;
  return true;
}

}  // namespace tpserve
