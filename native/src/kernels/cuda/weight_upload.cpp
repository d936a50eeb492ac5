// PinnedUploader: chunked, double-buffered host → device copies (see weight_upload.h).
#include "kernels/cuda/weight_upload.h"

#include <algorithm>
#include <cstring>

#include "kernels/cuda/cuda_check.cuh"
#include "tpserve/error.h"
#include "tpserve/thread_pool.h"

namespace tpserve::cuda {
namespace {

void convert(const void* src, DType s, void* dst, DType d, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    float v = load_as_float(src, s, static_cast<size_t>(i));
    switch (d) {
      case DType::F32: static_cast<float*>(dst)[i] = v; break;
      case DType::BF16: static_cast<uint16_t*>(dst)[i] = float_to_bf16(v); break;
      case DType::F16: static_cast<uint16_t*>(dst)[i] = float_to_f16(v); break;
    }
  }
}

}  // namespace

PinnedUploader::PinnedUploader(size_t chunk_bytes) : chunk_bytes_(chunk_bytes) {
  for (int i = 0; i < 2; i++) {
    TPS_CUDA_CHECK(cudaHostAlloc(&staging_[i], chunk_bytes_, cudaHostAllocDefault));
    TPS_CUDA_CHECK(cudaEventCreateWithFlags(&done_[i], cudaEventDisableTiming));
  }
}

PinnedUploader::~PinnedUploader() {
  for (int i = 0; i < 2; i++) {
    if (done_[i]) {
      cudaEventSynchronize(done_[i]);
      cudaEventDestroy(done_[i]);
    }
    if (staging_[i]) cudaFreeHost(staging_[i]);
  }
}

void PinnedUploader::upload(void* dst, DType dst_dtype, const void* src, DType src_dtype, int64_t n,
                            cudaStream_t stream) {
  const size_t dsize = dtype_size(dst_dtype), ssize = dtype_size(src_dtype);
  const int64_t per_chunk = static_cast<int64_t>(chunk_bytes_ / dsize);
  ThreadPool& pool = default_pool();
  for (int64_t begin = 0; begin < n; begin += per_chunk) {
    const int64_t count = std::min(per_chunk, n - begin);
    const int slot = next_;
    next_ ^= 1;
    if (busy_[slot]) TPS_CUDA_CHECK(cudaEventSynchronize(done_[slot]));  // its previous copy is done
    char* staging = static_cast<char*>(staging_[slot]);
    const char* from = static_cast<const char*>(src) + static_cast<size_t>(begin) * ssize;
    // Fill the pinned chunk on all cores: reading the page cache (or the disk) is the slow part.
    pool.parallel_for(
        count,
        [&](int64_t b, int64_t e) {
          if (src_dtype == dst_dtype)
            std::memcpy(staging + b * dsize, from + b * ssize, static_cast<size_t>(e - b) * dsize);
          else
            convert(from + b * ssize, src_dtype, staging + b * dsize, dst_dtype, e - b);
        },
        int64_t{1} << 18);
    char* to = static_cast<char*>(dst) + static_cast<size_t>(begin) * dsize;
    TPS_CUDA_CHECK(cudaMemcpyAsync(to, staging, static_cast<size_t>(count) * dsize, cudaMemcpyHostToDevice, stream));
    TPS_CUDA_CHECK(cudaEventRecord(done_[slot], stream));
    busy_[slot] = true;
    bytes_uploaded_ += count * static_cast<int64_t>(dsize);
  }
}

void PinnedUploader::finish() {
  for (int i = 0; i < 2; i++)
    if (busy_[i]) {
      TPS_CUDA_CHECK(cudaEventSynchronize(done_[i]));
      busy_[i] = false;
    }
}

}  // namespace tpserve::cuda
