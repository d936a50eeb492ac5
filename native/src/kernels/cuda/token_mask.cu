// CUDA token mask: uploads the row ids and bitmasks in one pinned copy, then one thread per logit
// (a 2-D grid: blocks over the vocabulary x masked rows). Tests: tests/cuda_ops_test.cpp
// (against kernels/cpu/token_mask.cpp).
#include <cstring>
#include <limits>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/scratch.cuh"
#include "kernels/cuda/stream.cuh"
#include "kernels/cuda/token_mask.cuh"
#include "tpserve/error.h"

namespace tpserve::cuda {
namespace {

constexpr int kThreads = 256;

// masks: [num_masked, words_per_row]
__global__ void token_mask_kernel(float* logits, int64_t vocab_size, const int32_t* rows, const uint32_t* masks,
                                  int64_t words_per_row) {
  const int64_t m = blockIdx.y;
  const int64_t id = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (id >= vocab_size) return;
  const int64_t w = id >> 5;
  const bool allowed = w < words_per_row && ((masks[m * words_per_row + w] >> (id & 31)) & 1u);
  if (!allowed) logits[int64_t(rows[m]) * vocab_size + id] = -INFINITY;
}

}  // namespace

void apply_token_mask(float* logits, int64_t vocab_size, const int32_t* rows, const uint32_t* masks,
                      int64_t num_masked, int64_t words_per_row) {
  if (num_masked <= 0) return;
  TPS_CHECK(logits && rows && masks, "apply_token_mask: null pointer");
  TPS_CHECK(vocab_size > 0 && words_per_row > 0, "apply_token_mask: bad sizes ", vocab_size, ", ", words_per_row);
  TPS_CHECK(num_masked <= 65535, "apply_token_mask: too many masked rows ", num_masked);
  for (int64_t m = 0; m < num_masked; m++) TPS_CHECK(rows[m] >= 0, "apply_token_mask: bad row ", rows[m]);
  const size_t rows_bytes = (sizeof(int32_t) * num_masked + 15) & ~size_t(15);
  const size_t total = rows_bytes + sizeof(uint32_t) * num_masked * words_per_row;
  auto* dev = static_cast<unsigned char*>(scratch_device(ScratchSlot::TokenMask, total));
  TPS_CHECK(dev, "apply_token_mask: cannot grow the mask buffer while a CUDA graph is being captured");
  auto* host = static_cast<unsigned char*>(scratch_host(ScratchSlot::TokenMask, total));
  std::memcpy(host, rows, sizeof(int32_t) * num_masked);
  std::memcpy(host + rows_bytes, masks, sizeof(uint32_t) * num_masked * words_per_row);
  cudaStream_t stream = current_stream();
  TPS_CUDA_CHECK(cudaMemcpyAsync(dev, host, total, cudaMemcpyHostToDevice, stream));
  const dim3 grid(static_cast<unsigned>((vocab_size + kThreads - 1) / kThreads), static_cast<unsigned>(num_masked));
  token_mask_kernel<<<grid, kThreads, 0, stream>>>(logits, vocab_size, reinterpret_cast<const int32_t*>(dev),
                                                   reinterpret_cast<const uint32_t*>(dev + rows_bytes), words_per_row);
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace tpserve::cuda
