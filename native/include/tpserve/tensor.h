// Tensor: a typed, shaped view of memory on one device, optionally keeping its storage alive.
// Weights are usually views into mmapped safetensors; activations are owned buffers.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tpserve/dtype.h"
#include "tpserve/error.h"

namespace tpserve {

enum class DeviceKind : int32_t { Cpu = 0, Cuda = 1 };

struct Device {
  DeviceKind kind = DeviceKind::Cpu;
  int index = 0;
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool is_cpu() const { return kind == DeviceKind::Cpu; }
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(void* data, DType dtype, std::vector<int64_t> shape, Device device = {},
         std::shared_ptr<void> owner = nullptr)
      : data_(data), dtype_(dtype), shape_(std::move(shape)), device_(device), owner_(std::move(owner)) {}

  // A new zero-initialised CPU tensor that owns its (64-byte aligned) storage.
  static Tensor empty_cpu(DType dtype, std::vector<int64_t> shape);

  bool defined() const { return data_ != nullptr; }
  void* data() const { return data_; }
  template <typename T>
  T* ptr() const { return static_cast<T*>(data_); }
  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_.at(i < 0 ? shape_.size() + i : i); }
  int rank() const { return static_cast<int>(shape_.size()); }
  Device device() const { return device_; }
  int64_t numel() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  std::string shape_string() const;
  // A view of rows [begin, end) of the first dimension (contiguous, no copy).
  Tensor rows(int64_t begin, int64_t end) const;

 private:
  void* data_ = nullptr;
  DType dtype_ = DType::F32;
  std::vector<int64_t> shape_;
  Device device_{};
  std::shared_ptr<void> owner_;
};

}  // namespace tpserve
