// CUDA embedding lookup: one block per token (grid-stride), 16-byte loads of the table row when
// the row is 8-element aligned, fp32 out; ids of other ranks' slices give zero rows.
// Tests: tests/cuda_ops_test.cpp.
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/embedding.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

constexpr int kThreads = 256;

// table: [num_rows, hidden]; out: [num_tokens, hidden]
template <typename T, bool kVec8>
__global__ void embedding_kernel(const T* table, const int32_t* ids, int64_t num_tokens, int64_t vocab_begin,
                                 int64_t num_rows, int64_t hidden, float* out) {
  for (int64_t t = blockIdx.x; t < num_tokens; t += gridDim.x) {
    const int64_t row = static_cast<int64_t>(ids[t]) - vocab_begin;
    float* dst = out + t * hidden;
    const bool mine = row >= 0 && row < num_rows;
    const T* src = table + (mine ? row : 0) * hidden;
    if constexpr (kVec8) {
      for (int64_t i = threadIdx.x * 8; i < hidden; i += blockDim.x * 8) {
        float v[8];
        if (mine) {
          load8(src + i, v);
        } else {
#pragma unroll
          for (int j = 0; j < 8; j++) v[j] = 0.f;
        }
        store8(dst + i, v);
      }
    } else {
      for (int64_t i = threadIdx.x; i < hidden; i += blockDim.x) dst[i] = mine ? to_float(src[i]) : 0.f;
    }
  }
}

}  // namespace

void embedding(const Tensor& table, const int32_t* ids, int64_t num_tokens, int64_t vocab_begin, float* out) {
  TPS_CHECK(!table.device().is_cpu(), "embedding: table is not on the GPU");
  TPS_CHECK(table.rank() == 2, "embedding: table must be [rows, hidden], got ", table.shape_string());
  TPS_CHECK(num_tokens >= 0, "embedding: negative token count ", num_tokens);
  if (num_tokens == 0) return;
  TPS_CHECK(ids && out, "embedding: null ids or out");
  const int64_t num_rows = table.dim(0), hidden = table.dim(1);
  const bool vec8 = hidden % 8 == 0 && is_aligned(table.data(), 16) && is_aligned(out, 16);
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(num_tokens, 65535));
  dispatch_dtype(table.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (vec8)
      embedding_kernel<T, true><<<blocks, kThreads, 0, current_stream()>>>(table.ptr<T>(), ids, num_tokens,
                                                                            vocab_begin, num_rows, hidden, out);
    else
      embedding_kernel<T, false><<<blocks, kThreads, 0, current_stream()>>>(table.ptr<T>(), ids, num_tokens,
                                                                             vocab_begin, num_rows, hidden, out);
  });
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace tpserve::cuda
