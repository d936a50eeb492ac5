// PinnedUploader: chunked, double-buffered host → device copies, and the conversion of quantized
// LinearWeights into the device layout (see weight_upload.h).
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

// Rows per conversion block of a quantized weight: bounds the host buffer to ~64 MiB of codes.
int64_t rows_per_block(int64_t k) { return std::max<int64_t>(1, (int64_t{64} << 20) / std::max<int64_t>(k, 1)); }

}  // namespace

int64_t quantized_row_bytes(const LinearWeight& w) {
  const int64_t k = w.in_features();
  return w.format == WeightFormat::Int4 ? k / 2 : (k + 15) / 16 * 16;
}

LinearWeight upload_quantized_weight(const LinearWeight& host, PinnedUploader& uploader, const DeviceAlloc& alloc,
                                     cudaStream_t stream) {
  TPS_CHECK(host.is_quantized(), "upload_quantized_weight: the weight is not quantized");
  const int64_t n = host.out_features(), k = host.in_features(), ng = num_weight_groups(host);
  if (host.format == WeightFormat::Int4)
    TPS_CHECK(host.group_size % 32 == 0 && k % host.group_size == 0, "int4 weight [", n, ", ", k, "] with group ",
              host.group_size, ": the CUDA kernels need groups of a multiple of 32 that divide k");
  const int64_t ld = quantized_row_bytes(host);
  const DType storage = host.format == WeightFormat::Int8   ? DType::I8
                        : host.format == WeightFormat::Fp8 ? DType::F8_E4M3
                                                           : DType::U8;
  LinearWeight out = host;
  out.weight = alloc(storage, {n, ld});
  out.scales = alloc(DType::F32, host.format == WeightFormat::Int4 ? std::vector<int64_t>{n, ng} : std::vector<int64_t>{n});
  out.zeros = host.format == WeightFormat::Int4 ? alloc(DType::F32, {n, ng}) : Tensor();
  out.perm = host.perm.defined() ? alloc(DType::I32, {k}) : Tensor();
  if (host.perm.defined()) {
    TPS_CHECK(host.perm.dtype() == DType::I32 && host.perm.numel() == k, "upload_quantized_weight: perm must be [", k,
              "] I32");
    uploader.upload(out.perm.data(), DType::I32, host.perm.data(), DType::I32, k, stream);
  }
  const int64_t block = rows_per_block(k);
  std::vector<uint8_t> codes, packed;
  std::vector<float> scales, zeros;
  float first_scale = 0.f;
  out.per_tensor_scale = false;
  for (int64_t r0 = 0; r0 < n; r0 += block) {
    const int64_t rows = std::min(block, n - r0);
    codes.resize(static_cast<size_t>(rows * k));
    packed.assign(static_cast<size_t>(rows * ld), 0);
    scales.resize(static_cast<size_t>(rows * ng));
    zeros.resize(scales.size());
    default_pool().parallel_for(
        rows,
        [&](int64_t a, int64_t b) {
          quantized_codes(host, r0 + a, r0 + b, codes.data() + a * k);
          for (int64_t r = a; r < b; r++) {
            const uint8_t* c = codes.data() + r * k;
            uint8_t* p = packed.data() + r * ld;
            if (host.format == WeightFormat::Int4)
              for (int64_t j = 0; j < k / 2; j++) p[j] = static_cast<uint8_t>(c[2 * j] | (c[2 * j + 1] << 4));
            else
              std::memcpy(p, c, static_cast<size_t>(k));
          }
        },
        16);
    quantized_params(host, r0, r0 + rows, scales.data(), zeros.data());
    if (r0 == 0) out.per_tensor_scale = true, first_scale = scales[0];
    for (float v : scales) out.per_tensor_scale = out.per_tensor_scale && v == first_scale;
    // upload() has copied each source into pinned staging when it returns: the buffers may be refilled
    uploader.upload(out.weight.ptr<uint8_t>() + r0 * ld, storage, packed.data(), storage, rows * ld, stream);
    uploader.upload(out.scales.ptr<float>() + r0 * ng, DType::F32, scales.data(), DType::F32, rows * ng, stream);
    if (out.zeros.defined())
      uploader.upload(out.zeros.ptr<float>() + r0 * ng, DType::F32, zeros.data(), DType::F32, rows * ng, stream);
  }
  return out;
}

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
