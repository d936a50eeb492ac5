// PinnedUploader: host → device copies of large tensors (mmapped safetensors views) through two
// pinned staging buffers, so the CPU fills one chunk (reading the page cache, converting the
// dtype when asked) while the copy engine moves the other. 72 GB of bf16 weights go through
// here once per process. Quantized LinearWeights go up in the device layout of the CUDA
// quantized kernels (upload_quantized_weight below).
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "tpserve/dtype.h"
#include "tpserve/linear_weight.h"

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

// The device layout of quantized weights (what kernels/cuda/linear_quantized.cuh reads), built from
// the semantic accessors of linear_weight.h (quantized_codes / quantized_params), never from the
// host's packed bytes, so the CPU side may repack its layout freely:
//   Int8, Fp8: weight [n, ld] I8 / F8_E4M3, ld = k rounded up to 16 bytes (zero padding: code 0
//              is 0 in both), so every row starts 16-byte aligned for 128-bit loads; scales [n] f32.
//   Int4:      weight [n, k / 2] U8, byte j of a row = code of column 2j (low nibble) | code of
//              column 2j + 1 (high nibble): 16 bytes hold 32 consecutive columns. k is a multiple
//              of group_size, itself a multiple of 32, so rows stay 16-byte aligned; scales and
//              zeros [n, k / group_size] f32, W = (code - zero) * scale.
//   perm:      [k] I32 as on the host (stored column c multiplies x[perm[c]], GPTQ act-order).
// format, rows, cols and group_size are the host's; per_tensor_scale is set when every row has the
// same scale (the FP8 cuBLASLt GEMM path needs one scale per tensor).
using DeviceAlloc = std::function<Tensor(DType, std::vector<int64_t>)>;
LinearWeight upload_quantized_weight(const LinearWeight& host, PinnedUploader& uploader, const DeviceAlloc& alloc,
                                     cudaStream_t stream);
// Bytes between two rows of a device-layout weight's storage.
int64_t quantized_row_bytes(const LinearWeight& w);

}  // namespace tpserve::cuda
