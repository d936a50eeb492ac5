// CUDA paged attention: the public launcher. Checks the shapes it can see on the host, picks
// the tensor-core kernels (attention_mma.cu: bf16/f16 cache, head_dim 64/128) or the CUDA-core
// fallback (attention_fallback.cu), sizes the decode split-K from the context bound
// (max_blocks_per_seq * block_size) and the GPU's multiprocessor count, and merges the splits.
// The per-sequence query lengths live on the device, so both the decode and the prefill
// kernel are launched and each skips the sequences of the other kind (attention_internal.cuh);
// AttentionBatch::max_query_len (a host hint) drops the prefill launch of decode-only steps.
// Tests: tests/cuda_ops_test.cpp (against kernels/cpu/attention.cpp).
#include <cmath>

#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/attention_internal.cuh"
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/scratch.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

using attention_detail::kDecodeRows;
using attention_detail::kKeysPerTile;
using attention_detail::kPrefillRows;
using attention_detail::Params;

constexpr int kMinKeysPerSplit = 256;
constexpr int kReduceThreads = 128;

// Decode splits run only while work = num_seqs * num_kv_heads < target = 2 * sms, with
// splits <= ceil(target / work), so work * splits < target + work < 2 * target: the partials of
// any batch fit 4 * sms * kDecodeRows rows.
int64_t max_split_parts(int sms) { return 4 * static_cast<int64_t>(sms) * kDecodeRows; }
size_t split_scratch_bytes(int sms, int64_t head_dim) {
  return static_cast<size_t>(max_split_parts(sms) * (head_dim + 1)) * sizeof(float);
}

// grid (num_seqs, num_kv_heads): out rows of split decode sequences = the lse-weighted mean of
// the splits' normalised partial outputs.
__global__ void __launch_bounds__(kReduceThreads) merge_splits_kernel(const Params p) {
  const int seq = blockIdx.x, kv_head = blockIdx.y, D = p.head_dim;
  const int q_begin = p.query_start[seq], q_len = p.query_start[seq + 1] - q_begin;
  if (!attention_detail::is_decode_seq(q_len, p.group)) return;
  const int num_active = min(p.num_splits, (p.context_lens[seq] + p.split_len - 1) / p.split_len);
  if (num_active <= 1) return;  // the decode kernel wrote the output itself
  const int num_rows = q_len * p.group;
  const int64_t part0 = (static_cast<int64_t>(seq) * p.num_kv_heads + kv_head) * p.num_splits;
  for (int idx = threadIdx.x; idx < num_rows * D; idx += blockDim.x) {
    const int row = idx / D, d = idx % D;
    float m = -INFINITY;
    for (int s = 0; s < num_active; s++) m = fmaxf(m, p.part_lse[(part0 + s) * kDecodeRows + row]);
    float wsum = 0.f, o = 0.f;
    for (int s = 0; s < num_active; s++) {
      const float w = exp2f(p.part_lse[(part0 + s) * kDecodeRows + row] - m);
      wsum += w;
      o += w * p.part_out[((part0 + s) * kDecodeRows + row) * D + d];
    }
    const int64_t tok = q_begin + row / p.group, head = static_cast<int64_t>(kv_head) * p.group + row % p.group;
    p.out[(tok * p.num_q_heads + head) * D + d] = o / wsum;
  }
}

}  // namespace

void reserve_attention_scratch(int64_t head_dim) {
  TPS_CHECK(head_dim > 0, "reserve_attention_scratch: head_dim must be positive, got ", head_dim);
  TPS_CHECK(scratch_device(ScratchSlot::AttentionSplits, split_scratch_bytes(num_sms(), head_dim)),
            "reserve_attention_scratch: cannot grow the split-K scratch during CUDA-graph capture");
}

void paged_attention(const float* q, const void* k_cache, const void* v_cache, DType cache_dtype,
                     const AttentionBatch& batch, const KvLayout& layout, int64_t num_q_heads, float scale,
                     float* out) {
  const int64_t max_query_len = batch.max_query_len;
  TPS_CHECK(layout.num_kv_heads > 0 && layout.head_dim > 0 && layout.block_size > 0,
            "paged_attention: bad cache layout");
  TPS_CHECK(num_q_heads > 0 && num_q_heads % layout.num_kv_heads == 0, "paged_attention: ", num_q_heads,
            " query heads are not a multiple of ", layout.num_kv_heads, " kv heads");
  TPS_CHECK(batch.num_seqs >= 0 && batch.num_seqs <= 65535, "paged_attention: num_seqs ", batch.num_seqs,
            " outside [0, 65535]");
  if (batch.num_seqs == 0 || max_query_len == 0) return;
  TPS_CHECK(batch.query_start && batch.context_lens && batch.block_tables, "paged_attention: null batch arrays");
  if (batch.max_blocks_per_seq <= 0) return;  // no context anywhere: only empty query chunks are valid
  TPS_CHECK(q && k_cache && v_cache && out, "paged_attention: null pointer");
  TPS_CHECK(q != out, "paged_attention: out must not alias q");
  const int64_t max_ctx = batch.max_blocks_per_seq * layout.block_size;
  TPS_CHECK(max_ctx < (int64_t(1) << 30) && num_q_heads <= 65535, "paged_attention: context or heads too large");

  Params p{};
  p.q = q;
  p.out = out;
  p.k_cache = k_cache;
  p.v_cache = v_cache;
  p.query_start = batch.query_start;
  p.context_lens = batch.context_lens;
  p.block_tables = batch.block_tables;
  p.num_seqs = static_cast<int>(batch.num_seqs);
  p.max_blocks_per_seq = static_cast<int>(batch.max_blocks_per_seq);
  p.num_q_heads = static_cast<int>(num_q_heads);
  p.num_kv_heads = static_cast<int>(layout.num_kv_heads);
  p.group = static_cast<int>(num_q_heads / layout.num_kv_heads);
  p.block_size = static_cast<int>(layout.block_size);
  p.head_dim = static_cast<int>(layout.head_dim);
  p.scale = scale;
  p.scale_log2 = scale * 1.4426950408889634f;
  p.num_splits = 1;
  p.split_len = static_cast<int>(ceil_div(max_ctx, kKeysPerTile) * kKeysPerTile);

  const int64_t max_q = max_query_len > 0 ? std::min(max_query_len, max_ctx) : max_ctx;
  const bool mma = attention_detail::mma_supported(cache_dtype, p.head_dim) && is_aligned(q, 16) &&
                   is_aligned(out, 8) && is_aligned(k_cache, 16) && is_aligned(v_cache, 16);
  if (!mma) {
    const int blocks_x = static_cast<int>(std::clamp<int64_t>(ceil_div(max_q, 4), 1, 32));
    attention_detail::launch_fallback(p, cache_dtype, blocks_x);
    return;
  }

  const bool run_decode = p.group <= kDecodeRows;        // some sequence may have q_len * group <= 16
  const bool run_prefill = max_q * p.group > kDecodeRows;  // some sequence may have more rows
  const int sms = num_sms();
  if (run_decode) {
    // split-K when (sequences x kv heads) leaves the GPU under-filled and contexts are long
    const int64_t work = batch.num_seqs * layout.num_kv_heads, target = 2 * static_cast<int64_t>(sms);
    int64_t splits = std::min(ceil_div(target, work), std::max<int64_t>(1, max_ctx / kMinKeysPerSplit));
    splits = std::clamp<int64_t>(splits, 1, 64);
    if (splits > 1) {
      // One fixed size for every batch (see split_scratch_bytes): the buffer never grows between
      // the eager run of a decode shape and its CUDA-graph capture or replays.
      const int64_t parts = batch.num_seqs * layout.num_kv_heads * splits * kDecodeRows;
      TPS_CHECK(parts <= max_split_parts(sms), "paged_attention: ", parts, " split partials exceed the bound");
      void* ws = scratch_device(ScratchSlot::AttentionSplits, split_scratch_bytes(sms, layout.head_dim));
      if (ws) {  // nullptr: capturing a graph with too small a buffer: run unsplit
        p.num_splits = static_cast<int>(splits);
        p.split_len = static_cast<int>(ceil_div(ceil_div(max_ctx, splits), kKeysPerTile) * kKeysPerTile);
        p.part_out = static_cast<float*>(ws);
        p.part_lse = p.part_out + parts * layout.head_dim;
      }
    }
    attention_detail::launch_mma_decode(p, cache_dtype);
    if (p.num_splits > 1) {
      merge_splits_kernel<<<dim3(p.num_seqs, p.num_kv_heads), kReduceThreads, 0, current_stream()>>>(p);
      TPS_CUDA_CHECK_LAUNCH();
    }
  }
  if (run_prefill) {
    const int64_t tiles = batch.num_seqs * ceil_div(max_q * p.group, kPrefillRows);
    const int64_t cap = std::max<int64_t>(1, ceil_div(4 * static_cast<int64_t>(sms), layout.num_kv_heads));
    attention_detail::launch_mma_prefill(p, cache_dtype, static_cast<int>(std::min(tiles, cap)));
  }
}

}  // namespace tpserve::cuda
