// Private to the attention .cu files: the parameters every attention kernel reads and the
// launchers of the tensor-core path (attention_mma.cu) and the CUDA-core path
// (attention_fallback.cu). The public launcher is in attention.cu.
//
// Work split: a sequence's rows are its (query token, query head of one kv head) pairs, row
// r = token r / group, head r % group, so the query heads sharing a kv head share every K/V tile.
//  - "decode" sequences (1 <= q_len and q_len * group <= 16 rows): one 16-row tile per
//    (sequence, kv head, split of the context); splits of a long context are merged by
//    attention.cu's reduce kernel (flash-decoding).
//  - "prefill" sequences (more rows): 64-row tiles over the whole causal prefix, pulled by a
//    persistent grid, heaviest (last) tiles first.
#pragma once
#include <cstdint>

#include "tpserve/dtype.h"

namespace tpserve::cuda::attention_detail {

constexpr int kDecodeRows = 16;   // rows of a decode tile (one m16 MMA tile)
constexpr int kPrefillRows = 64;  // rows of a prefill tile
constexpr int kKeysPerTile = 64;  // keys per K/V stage

struct Params {
  const float* q;          // [num_tokens, num_q_heads, head_dim]
  float* out;              // same
  const void* k_cache;     // [num_blocks, num_kv_heads, block_size, head_dim]
  const void* v_cache;
  const int32_t* query_start;   // [num_seqs + 1]
  const int32_t* context_lens;  // [num_seqs]
  const int32_t* block_tables;  // [num_seqs, max_blocks_per_seq]
  int num_seqs;
  int max_blocks_per_seq;
  int num_q_heads;
  int num_kv_heads;
  int group;  // num_q_heads / num_kv_heads
  int block_size;
  int head_dim;
  float scale;       // softmax scale
  float scale_log2;  // scale * log2(e): the MMA path works in base 2
  int num_splits;    // decode splits of the context (1: no split, partial buffers unused)
  int split_len;     // keys per split, a multiple of kKeysPerTile
  float* part_out;   // [num_seqs, num_kv_heads, num_splits, kDecodeRows, head_dim] normalised partial outputs
  float* part_lse;   // [num_seqs, num_kv_heads, num_splits, kDecodeRows] log2-sum-exp2 of each partial
};

__host__ __device__ inline bool is_decode_seq(int q_len, int group) { return q_len >= 1 && q_len * group <= kDecodeRows; }
__host__ __device__ inline bool is_prefill_seq(int q_len, int group) { return q_len >= 1 && q_len * group > kDecodeRows; }

// Tensor-core path (bf16/f16 caches, head_dim 64 or 128): false when it does not apply.
bool mma_supported(DType cache_dtype, int head_dim);
void launch_mma_decode(const Params& p, DType cache_dtype);
void launch_mma_prefill(const Params& p, DType cache_dtype, int num_blocks_x);
// CUDA-core path for every other case (f32 caches, other head sizes): all sequences, one warp
// per (token, query head); grid.x = num_blocks_x blocks of token groups per (head, sequence).
void launch_fallback(const Params& p, DType cache_dtype, int num_blocks_x);

}  // namespace tpserve::cuda::attention_detail
