// CUDA-core paged attention for the cases the tensor-core kernels do not take (f32 caches, head
// sizes other than 64/128): one warp per (query token, query head), lanes over head_dim, keys
// walked one at a time with an online softmax in fp32 (the CPU kernel's math, expf). Correct
// for every shape; slower than attention_mma.cu. Tests: tests/cuda_ops_test.cpp.
#include <cmath>

#include "kernels/cuda/attention_internal.cuh"
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda::attention_detail {
namespace {

constexpr int kWarps = 4;

// grid (num_blocks_x, num_q_heads, num_seqs); kPer = head_dim elements per lane (upper bound).
template <typename T, int kPer>
__global__ void __launch_bounds__(kWarps * 32) fallback_kernel(const Params p) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int seq = blockIdx.z, head = blockIdx.y, D = p.head_dim;
  const int q_begin = p.query_start[seq], q_len = p.query_start[seq + 1] - q_begin;
  const int ctx = p.context_lens[seq], first_pos = ctx - q_len;
  const int kv_head = head / p.group;
  const T* kc = static_cast<const T*>(p.k_cache);
  const T* vc = static_cast<const T*>(p.v_cache);
  const int* table = p.block_tables + static_cast<int64_t>(seq) * p.max_blocks_per_seq;
  for (int j = blockIdx.x * kWarps + warp; j < q_len; j += gridDim.x * kWarps) {
    const int64_t row = (static_cast<int64_t>(q_begin) + j) * p.num_q_heads + head;
    const float* qr = p.q + row * D;
    float q[kPer], acc[kPer];
#pragma unroll
    for (int i = 0; i < kPer; i++) {
      const int d = lane + 32 * i;
      q[i] = d < D ? qr[d] : 0.f;
      acc[i] = 0.f;
    }
    float m = -INFINITY, l = 0.f;
    const int pos = first_pos + j;
    for (int t = 0; t <= pos; t++) {
      const int64_t blk = table[t / p.block_size];
      const int64_t off = ((blk * p.num_kv_heads + kv_head) * p.block_size + t % p.block_size) * D;
      float dot = 0.f;
#pragma unroll
      for (int i = 0; i < kPer; i++) {
        const int d = lane + 32 * i;
        if (d < D) dot += q[i] * to_float(kc[off + d]);
      }
      const float score = warp_sum(dot) * p.scale;
      const float m_new = fmaxf(m, score);
      const float corr = expf(m - m_new), e = expf(score - m_new);
      m = m_new;
      l = l * corr + e;
#pragma unroll
      for (int i = 0; i < kPer; i++) {
        const int d = lane + 32 * i;
        if (d < D) acc[i] = acc[i] * corr + e * to_float(vc[off + d]);
      }
    }
    float* dst = p.out + row * D;
    const float inv = 1.0f / l;
#pragma unroll
    for (int i = 0; i < kPer; i++) {
      const int d = lane + 32 * i;
      if (d < D) dst[d] = acc[i] * inv;
    }
  }
}

template <typename T, int kPer>
void launch(const Params& p, int num_blocks_x) {
  const dim3 grid(num_blocks_x, p.num_q_heads, p.num_seqs);
  fallback_kernel<T, kPer><<<grid, kWarps * 32, 0, current_stream()>>>(p);
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace

void launch_fallback(const Params& p, DType cache_dtype, int num_blocks_x) {
  TPS_CHECK(p.head_dim <= 512, "paged_attention: head_dim ", p.head_dim, " above 512 is not supported on CUDA");
  dispatch_dtype(cache_dtype, [&](auto tag) {
    using T = decltype(tag);
    if (p.head_dim <= 64) launch<T, 2>(p, num_blocks_x);
    else if (p.head_dim <= 128) launch<T, 4>(p, num_blocks_x);
    else if (p.head_dim <= 256) launch<T, 8>(p, num_blocks_x);
    else launch<T, 16>(p, num_blocks_x);
  });
}

}  // namespace tpserve::cuda::attention_detail
