// paged_attention(): a mixed batch (prefill chunk over a cached prefix, full prefill, decode
// tokens, an idle sequence) with GQA, shuffled block tables, block sizes 16 and 5, every cache
// dtype and SIMD path, against softmax attention over the logical K/V in double; decode-only
// batches of the bench model's head layout. Cache slots that must not be read hold NaN.
// Run: ctest -R Attention
#include "kernels/cpu/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "test_util.h"

namespace tpserve {
namespace {

struct SeqSpec {
  int32_t q_len;
  int32_t ctx;  // cached tokens after this step's writes
};

struct Case {
  int64_t num_q_heads = 6, num_kv_heads = 2, head_dim = 40, block_size = 16;
  DType dtype = DType::F32;
  std::vector<SeqSpec> seqs;
  uint32_t seed = 1;
};

void store(std::vector<uint8_t>& cache, DType dt, size_t i, float f) {
  if (dt == DType::F32) std::memcpy(cache.data() + i * 4, &f, 4);
  else {
    uint16_t h = dt == DType::BF16 ? float_to_bf16(f) : float_to_f16(f);
    std::memcpy(cache.data() + i * 2, &h, 2);
  }
}

void run_case(const Case& c) {
  const int64_t H = c.num_q_heads, KH = c.num_kv_heads, D = c.head_dim, bs = c.block_size;
  const int64_t num_seqs = static_cast<int64_t>(c.seqs.size());
  std::vector<int32_t> query_start(1, 0), ctx_lens;
  int64_t max_blocks = 0, total_blocks = 0;
  for (const SeqSpec& s : c.seqs) {
    query_start.push_back(query_start.back() + s.q_len);
    ctx_lens.push_back(s.ctx);
    max_blocks = std::max<int64_t>(max_blocks, (s.ctx + bs - 1) / bs);
    total_blocks += (s.ctx + bs - 1) / bs;
  }
  max_blocks += 1;  // a spare column, left at -1
  const int64_t num_blocks = total_blocks + 3;  // a few blocks nobody owns (NaN)
  std::vector<int32_t> ids(static_cast<size_t>(num_blocks));
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), std::mt19937(c.seed));
  std::vector<int32_t> table(static_cast<size_t>(num_seqs * max_blocks), -1);

  // Logical K/V of each sequence: [ctx, KH, D], rounded to the cache dtype; then paged.
  const size_t cache_elems = static_cast<size_t>(num_blocks * KH * bs * D);
  std::vector<uint8_t> kc(cache_elems * dtype_size(c.dtype)), vc(kc.size());
  for (size_t i = 0; i < cache_elems; i++) {
    store(kc, c.dtype, i, std::nanf(""));
    store(vc, c.dtype, i, std::nanf(""));
  }
  std::vector<std::vector<float>> kl(num_seqs), vl(num_seqs);
  size_t next_id = 0;
  for (int64_t s = 0; s < num_seqs; s++) {
    const int64_t ctx = c.seqs[s].ctx;
    kl[s] = test::random_floats(static_cast<size_t>(ctx * KH * D), c.seed * 31 + static_cast<uint32_t>(s), -2.f, 2.f);
    vl[s] = test::random_floats(kl[s].size(), c.seed * 37 + static_cast<uint32_t>(s));
    for (int64_t b = 0; b * bs < ctx; b++) table[s * max_blocks + b] = ids[next_id++];
    for (int64_t t = 0; t < ctx; t++)
      for (int64_t h = 0; h < KH; h++)
        for (int64_t d = 0; d < D; d++) {
          const size_t li = static_cast<size_t>((t * KH + h) * D + d);
          kl[s][li] = test::round_to(c.dtype, kl[s][li]);
          vl[s][li] = test::round_to(c.dtype, vl[s][li]);
          const size_t ci = static_cast<size_t>(((table[s * max_blocks + t / bs] * KH + h) * bs + t % bs) * D + d);
          store(kc, c.dtype, ci, kl[s][li]);
          store(vc, c.dtype, ci, vl[s][li]);
        }
  }

  const int64_t num_tokens = query_start.back();
  auto q = test::random_floats(static_cast<size_t>(num_tokens * H * D), c.seed + 99, -1.f, 1.f);
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  std::vector<double> want(q.size());
  for (int64_t s = 0; s < num_seqs; s++) {
    const int64_t q_len = c.seqs[s].q_len, ctx = c.seqs[s].ctx;
    for (int64_t j = 0; j < q_len; j++) {
      const int64_t tok = query_start[s] + j, pos = ctx - q_len + j;
      for (int64_t h = 0; h < H; h++) {
        const int64_t kvh = h / (H / KH);
        std::vector<double> score(static_cast<size_t>(pos + 1));
        double mx = -1e300, sum = 0;
        for (int64_t t = 0; t <= pos; t++) {
          double dot = 0;
          for (int64_t d = 0; d < D; d++) dot += static_cast<double>(q[(tok * H + h) * D + d]) * kl[s][(t * KH + kvh) * D + d];
          score[t] = dot * scale;
          mx = std::max(mx, score[t]);
        }
        for (double& x : score) sum += (x = std::exp(x - mx));
        for (int64_t d = 0; d < D; d++) {
          double o = 0;
          for (int64_t t = 0; t <= pos; t++) o += score[t] * vl[s][(t * KH + kvh) * D + d];
          want[(tok * H + h) * D + d] = o / sum;
        }
      }
    }
  }
  AttentionBatch batch{num_seqs, query_start.data(), ctx_lens.data(), table.data(), max_blocks};
  KvLayout layout{num_blocks, KH, bs, D};
  auto out = test::nan_filled(q.size());
  cpu::paged_attention(q.data(), kc.data(), vc.data(), c.dtype, batch, layout, H, scale, out.data());
  EXPECT_LT(test::rel_error(out, want), 1e-5) << "dtype=" << dtype_name(c.dtype) << " block_size=" << bs
                                              << " heads=" << H << "/" << KH << " isa=" << cpu::isa_name(cpu::active_isa());
}

// prefill chunk over a cached prefix, decode, full prefill, idle sequence, long decode
const std::vector<SeqSpec> kMixed = {{7, 27}, {1, 33}, {12, 12}, {0, 9}, {1, 1}, {1, 100}, {40, 70}};

TEST(Attention, MixedBatchOnEveryPathDtypeAndBlockSize) {
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (DType dt : test::all_dtypes())
      for (int64_t bs : {16, 5}) {
        Case c;
        c.dtype = dt;
        c.block_size = bs;
        c.seqs = kMixed;
        c.seed = static_cast<uint32_t>(bs) + static_cast<uint32_t>(dt) * 7;
        run_case(c);
      }
  }
}

TEST(Attention, HeadLayouts) {
  for (auto [h, kh, d] : {std::tuple<int64_t, int64_t, int64_t>{4, 4, 16}, {8, 1, 64}, {10, 2, 128}, {3, 1, 7}}) {
    Case c;
    c.num_q_heads = h;
    c.num_kv_heads = kh;
    c.head_dim = d;
    c.dtype = DType::BF16;
    c.seqs = {{3, 20}, {1, 17}, {30, 30}};
    run_case(c);
  }
}

// Decode-only batches (the two-pass decode path): the bench model's heads (16 q / 4 kv of 64), one
// short sequence (run on the calling thread), one longer and eight mixed (spread over the pool).
TEST(Attention, DecodeBatchesOnEveryPathAndDtype) {
  for (cpu::Isa isa : test::available_isas()) {
    test::IsaScope scope(isa);
    for (DType dt : test::all_dtypes())
      for (const std::vector<SeqSpec>& seqs : {std::vector<SeqSpec>{{1, 40}}, std::vector<SeqSpec>{{1, 200}},
                                               std::vector<SeqSpec>{{1, 1}, {1, 15}, {1, 16}, {1, 17}, {1, 230}, {1, 129}, {1, 300}, {1, 64}}}) {
        Case c;
        c.num_q_heads = 16;
        c.num_kv_heads = 4;
        c.head_dim = 64;
        c.dtype = dt;
        c.seqs = seqs;
        c.seed = static_cast<uint32_t>(seqs.size()) + static_cast<uint32_t>(dt) * 5;
        run_case(c);
      }
  }
}

TEST(Attention, RejectsBadInputs) {
  std::vector<int32_t> qs = {0, 1}, lens = {3}, table = {5};
  std::vector<float> q(8), out(8), cache(2 * 4 * 8);
  AttentionBatch batch{1, qs.data(), lens.data(), table.data(), 1};
  KvLayout layout{2, 1, 4, 8};
  EXPECT_THROW(cpu::paged_attention(q.data(), cache.data(), cache.data(), DType::F32, batch, layout, 1, 1.f, out.data()),
               Error);  // block id 5 of 2
  table[0] = 1;
  EXPECT_NO_THROW(cpu::paged_attention(q.data(), cache.data(), cache.data(), DType::F32, batch, layout, 1, 1.f, out.data()));
  layout.num_kv_heads = 2;
  EXPECT_THROW(cpu::paged_attention(q.data(), cache.data(), cache.data(), DType::F32, batch, layout, 3, 1.f, out.data()),
               Error);  // 3 q heads over 2 kv heads
  layout.num_kv_heads = 1;
  lens[0] = 0;  // fewer cached tokens than query tokens
  EXPECT_THROW(cpu::paged_attention(q.data(), cache.data(), cache.data(), DType::F32, batch, layout, 1, 1.f, out.data()),
               Error);
}

}  // namespace
}  // namespace tpserve
