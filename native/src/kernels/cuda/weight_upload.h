// PinnedUploader: host → device copies of large tensors (mmapped safetensors views) through two
// pinned staging buffers, so the CPU fills one chunk (reading the page cache, converting the
// dtype when asked) while the copy engine moves the other. 72 GB of bf16 weights go through
// here once per process.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "tpserve/dtype.h"

namespace tpserve::cuda {

class PinnedUploader {
 public:
  explicit PinnedUploader(size_t chunk_bytes = size_t{64} << 20);
  ~PinnedUploader();
  PinnedUploader(const PinnedUploader&) = delete;
  PinnedUploader& operator=(const PinnedUploader&) = delete;

  // Copies n elements of src_dtype at host src to device dst as dst_dtype (converting on the
  // host when they differ), on `stream`. Returns once every chunk is queued; the host source
  // may be released after the next call or finish().
  void upload(void* dst, DType dst_dtype, const void* src, DType src_dtype, int64_t n, cudaStream_t stream);
  // Waits for the queued copies.
  void finish();
  int64_t bytes_uploaded() const { return bytes_uploaded_; }

 private:
  size_t chunk_bytes_;
  void* staging_[2] = {nullptr, nullptr};
  cudaEvent_t done_[2] = {nullptr, nullptr};
  bool busy_[2] = {false, false};
  int next_ = 0;
  int64_t bytes_uploaded_ = 0;
};

}  // namespace tpserve::cuda
