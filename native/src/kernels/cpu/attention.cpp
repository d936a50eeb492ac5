// CPU paged attention (causal prefill chunks over a cached prefix, decode tokens, GQA).
// Work item = (sequence, kv head, chunk of query tokens): the query heads sharing that kv head are
// processed together so each K/V block is read (and converted to fp32) once per item; online
// (flash-style) softmax over the blocks; items are pulled dynamically by the pool threads. A decode
// token's item takes the two-pass kernel of attention_decode.cpp (except batch_invariant: one
// kernel for every query, so a prefill and a decode give a token the same bits); a call with few query-key pairs
// (batch-1 decode of a short context) runs on the calling thread.
// Tests: tests/attention_test.cpp
#include "kernels/cpu/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/attention_decode.h"
#include "kernels/cpu/simd.h"
#include "tpserve/error.h"
#include "tpserve/thread_pool.h"

namespace tpserve::cpu {
namespace {

struct WorkItem {
  int32_t seq;
  int32_t kv_head;
  int32_t tok_begin;  // query tokens [tok_begin, tok_end) of the sequence
  int32_t tok_end;
};

struct Scratch {
  std::vector<float> k, v;   // [block_size, head_dim] fp32 copy of one block
  std::vector<float> acc;    // [num_queries, head_dim] un-normalised output
  std::vector<float> m, l;   // [num_queries] running max and sum of exp
  std::vector<float> score;  // [block_size]
};

struct Params {
  const float* q;
  const void* k_cache;
  const void* v_cache;
  DType dtype;
  const AttentionBatch* batch;
  const KvLayout* layout;
  int64_t num_q_heads;
  int64_t group;  // query heads per kv head
  float scale;
  float* out;
};

void run_item(const Params& p, const WorkItem& it, const VecOps& ops, Scratch& s) {
  const AttentionBatch& b = *p.batch;
  const int64_t D = p.layout->head_dim, bs = p.layout->block_size, KH = p.layout->num_kv_heads, G = p.group;
  const int64_t q_len = b.query_start[it.seq + 1] - b.query_start[it.seq];
  const int64_t ctx = b.context_lens[it.seq];
  const int64_t first_pos = ctx - q_len;  // position of the sequence's first query token
  const int64_t num_tok = it.tok_end - it.tok_begin, nq = num_tok * G;
  const int64_t needed = first_pos + it.tok_end;  // kv positions [0, needed) are visible to some query
  const size_t esize = dtype_size(p.dtype);

  s.acc.assign(static_cast<size_t>(nq * D), 0.f);
  s.m.assign(static_cast<size_t>(nq), -std::numeric_limits<float>::infinity());
  s.l.assign(static_cast<size_t>(nq), 0.f);
  s.k.resize(static_cast<size_t>(bs * D));
  s.v.resize(static_cast<size_t>(bs * D));
  s.score.resize(static_cast<size_t>(bs));

  // query j = token tt (of the item) x head g (of the group): row of q / out
  auto q_row = [&](int64_t j) {
    const int64_t tok = b.query_start[it.seq] + it.tok_begin + j / G;
    return (tok * p.num_q_heads + it.kv_head * G + j % G) * D;
  };
  const int32_t* table = b.block_tables + it.seq * b.max_blocks_per_seq;
  for (int64_t blk = 0; blk * bs < needed; blk++) {
    const int64_t base = blk * bs;
    const int64_t valid = std::min(bs, needed - base);
    const size_t offset = static_cast<size_t>((table[blk] * KH + it.kv_head) * bs * D);
    const float* kb;
    const float* vb;
    if (p.dtype == DType::F32) {
      kb = static_cast<const float*>(p.k_cache) + offset;
      vb = static_cast<const float*>(p.v_cache) + offset;
    } else {  // kb, vb: [valid, D] fp32
      ops.to_f32(static_cast<const char*>(p.k_cache) + offset * esize, p.dtype, s.k.data(), valid * D);
      ops.to_f32(static_cast<const char*>(p.v_cache) + offset * esize, p.dtype, s.v.data(), valid * D);
      kb = s.k.data();
      vb = s.v.data();
    }
    for (int64_t j = 0; j < nq; j++) {
      const int64_t pos = first_pos + it.tok_begin + j / G;
      const int64_t limit = std::min(valid, pos + 1 - base);  // causal: keys <= pos
      if (limit <= 0) continue;
      const float* qj = p.q + q_row(j);
      float block_max = -std::numeric_limits<float>::infinity();
      for (int64_t t = 0; t < limit; t++) {
        s.score[t] = ops.dot(qj, kb + t * D, D) * p.scale;
        block_max = std::max(block_max, s.score[t]);
      }
      float* acc = s.acc.data() + j * D;
      const float m_new = std::max(s.m[j], block_max);
      if (m_new > s.m[j] && s.l[j] > 0.f) {  // rescale what was summed under the old max
        const float corr = std::exp(s.m[j] - m_new);
        s.l[j] *= corr;
        ops.scale(corr, acc, D);
      }
      s.m[j] = m_new;
      for (int64_t t = 0; t < limit; t++) {
        const float e = std::exp(s.score[t] - m_new);
        s.l[j] += e;
        ops.axpy(e, vb + t * D, acc, D);
      }
    }
  }
  for (int64_t j = 0; j < nq; j++) {
    float* dst = p.out + q_row(j);
    const float inv = 1.0f / s.l[j];
    const float* acc = s.acc.data() + j * D;
    for (int64_t d = 0; d < D; d++) dst[d] = acc[d] * inv;
  }
}

void check_batch(const AttentionBatch& b, const KvLayout& layout, int64_t num_q_heads) {
  TPS_CHECK(layout.num_kv_heads > 0 && layout.head_dim > 0 && layout.block_size > 0,
            "paged_attention: bad cache layout");
  TPS_CHECK(num_q_heads > 0 && num_q_heads % layout.num_kv_heads == 0, "paged_attention: ", num_q_heads,
            " query heads are not a multiple of ", layout.num_kv_heads, " kv heads");
  TPS_CHECK(b.num_seqs >= 0, "paged_attention: negative num_seqs");
  if (b.num_seqs == 0) return;
  TPS_CHECK(b.query_start && b.context_lens && b.block_tables, "paged_attention: null batch arrays");
  TPS_CHECK(b.query_start[0] == 0, "paged_attention: query_start[0] must be 0");
  for (int64_t s = 0; s < b.num_seqs; s++) {
    const int64_t q_len = b.query_start[s + 1] - b.query_start[s];
    const int64_t ctx = b.context_lens[s];
    TPS_CHECK(q_len >= 0 && ctx >= q_len, "paged_attention: sequence ", s, " has ", q_len, " query tokens but context ",
              ctx);
    const int64_t num_blocks = (ctx + layout.block_size - 1) / layout.block_size;
    TPS_CHECK(num_blocks <= b.max_blocks_per_seq, "paged_attention: sequence ", s, " needs ", num_blocks,
              " blocks, the table holds ", b.max_blocks_per_seq);
    if (q_len == 0) continue;
    for (int64_t i = 0; i < num_blocks; i++) {
      const int32_t id = b.block_tables[s * b.max_blocks_per_seq + i];
      TPS_CHECK(id >= 0 && id < layout.num_blocks, "paged_attention: block id ", id, " of sequence ", s,
                " is out of range [0, ", layout.num_blocks, ")");
    }
  }
}

// Below this many query-key pairs a call runs on the calling thread, where waking the pool costs
// more than the work. Batch-1 decode at 16 q heads, context 128-176 (two-pass kernel): 295-309 µs
// a step over 2 threads, 372-377 on the calling thread; so only contexts under ~64 stay serial.
constexpr int64_t kSerialWork = 1024;

}  // namespace

void paged_attention(const float* q, const void* k_cache, const void* v_cache, DType cache_dtype,
                     const AttentionBatch& batch, const KvLayout& layout, int64_t num_q_heads, float scale,
                     float* out, bool batch_invariant) {
  check_batch(batch, layout, num_q_heads);
  if (batch.num_seqs == 0 || batch.query_start[batch.num_seqs] == 0) return;
  TPS_CHECK(q && k_cache && v_cache && out, "paged_attention: null pointer");
  const int64_t group = num_q_heads / layout.num_kv_heads;
  // ~64 queries per item: enough reuse of each converted K/V block, enough items to balance.
  const int64_t tokens_per_item = std::max<int64_t>(1, 64 / group);
  thread_local std::vector<WorkItem> reused;  // no allocation per call; a thread-local is not
  std::vector<WorkItem>& items = reused;      // captured by a lambda, so the pool reads it by reference
  items.clear();
  int64_t work = 0;  // query-key pairs of the whole call
  for (int64_t s = 0; s < batch.num_seqs; s++) {
    const int32_t q_len = batch.query_start[s + 1] - batch.query_start[s];
    work += static_cast<int64_t>(q_len) * batch.context_lens[s] * num_q_heads;
    for (int32_t t0 = 0; t0 < q_len; t0 += static_cast<int32_t>(tokens_per_item))
      for (int32_t h = 0; h < layout.num_kv_heads; h++)
        items.push_back({static_cast<int32_t>(s), h, t0, std::min<int32_t>(q_len, t0 + static_cast<int32_t>(tokens_per_item))});
  }
  // Longest items (latest query chunks of long contexts) first, for balance.
  std::stable_sort(items.begin(), items.end(), [&](const WorkItem& a, const WorkItem& b) {
    const int64_t wa = (batch.context_lens[a.seq] - (batch.query_start[a.seq + 1] - batch.query_start[a.seq]) + a.tok_end);
    const int64_t wb = (batch.context_lens[b.seq] - (batch.query_start[b.seq + 1] - batch.query_start[b.seq]) + b.tok_end);
    return wa * (a.tok_end - a.tok_begin) > wb * (b.tok_end - b.tok_begin);
  });
  const Params p{q, k_cache, v_cache, cache_dtype, &batch, &layout, num_q_heads, group, scale, out};
  const VecOps& ops = vec_ops();
  // A decode token (one query token of its sequence) takes the two-pass path over its context,
  // unless batch_invariant: then every query takes run_item, whose arithmetic for one query does
  // not depend on the other queries of its item or on the chunk it came in.
  auto run = [&](const WorkItem& it, Scratch& scratch) {
    if (batch_invariant || batch.query_start[it.seq + 1] - batch.query_start[it.seq] != 1) return run_item(p, it, ops, scratch);
    const int64_t row = (static_cast<int64_t>(batch.query_start[it.seq]) * num_q_heads + it.kv_head * group) * layout.head_dim;
    decode_attention_group(q + row, k_cache, v_cache, cache_dtype, batch.block_tables + it.seq * batch.max_blocks_per_seq,
                           batch.context_lens[it.seq], it.kv_head, layout, group, scale, out + row);
  };
  ThreadPool& pool = default_pool();
  if (work < kSerialWork || pool.num_threads() == 1 || items.size() == 1) {
    thread_local Scratch scratch;
    for (const WorkItem& it : items) run(it, scratch);
    return;
  }
  std::atomic<size_t> next{0};
  pool.parallel_for(std::min<int64_t>(pool.num_threads(), static_cast<int64_t>(items.size())), [&](int64_t, int64_t) {
    thread_local Scratch scratch;
    for (size_t i; (i = next.fetch_add(1)) < items.size();) run(items[i], scratch);
  });
}

}  // namespace tpserve::cpu
