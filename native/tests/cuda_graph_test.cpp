// CUDA-graph decode against the eager decoder on one GPU: two decoders over the same tiny
// Seed-OSS-shaped weights and identical random KV caches run the same decode steps, one eager,
// one through the graph runner. The batch sizes go 1 -> 8 -> 1 -> 64 -> 1 over changing
// block-table widths (each phase twice, so every graph is replayed after larger batches have
// run), then one sequence past 64K tokens of context. Every logits row must match the eager one,
// and graphs must have been captured and replayed. Skips with "no CUDA GPU found" without a GPU.
// Run: ctest --test-dir native/build -R CudaGraph --output-on-failure
#ifdef TPSERVE_WITH_CUDA
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "../bench/tiny_checkpoint.h"
#include "engine/cuda_backend.h"
#include "engine/cuda_graph_runner.h"
#include "kernels/cuda/random_fill.h"
#include "model/decoder.h"
#include "tpserve/backend.h"
#include "tpserve/communicator.h"
#include "tpserve/model_weights.h"

namespace tpserve {
namespace {

constexpr int64_t kBlockSize = 16;
constexpr int64_t kSeqBlocks = 48;                      // blocks of each short sequence
constexpr int64_t kNumShort = 64;
constexpr int64_t kLongContext = 70'000;                // past 64K tokens
constexpr int64_t kLongBlocks = (kLongContext + 64) / kBlockSize + 1;
constexpr int64_t kNumBlocks = kNumShort * kSeqBlocks + kLongBlocks;
constexpr double kTolerance = 1e-3;                     // same kernels; GEMM algorithms may differ with padding

double rel_l2(const float* a, const float* ref, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!std::isfinite(a[i])) return INFINITY;
    const double d = static_cast<double>(a[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

struct Seq {
  int32_t first_block;
  int32_t context;  // tokens in the cache before the next decode step
};

// One decode step of the given sequences with a block table `width` blocks wide; advances them.
ForwardBatch decode_step(std::vector<Seq*> seqs, int64_t width, int64_t vocab) {
  ForwardBatch b;
  b.max_blocks_per_seq = width;
  for (size_t i = 0; i < seqs.size(); i++) {
    Seq& s = *seqs[i];
    const int32_t pos = s.context;
    const int64_t used = pos / kBlockSize + 1;
    EXPECT_LE(used, width) << "test bug: block table narrower than the context";
    b.query_start.push_back(static_cast<int32_t>(i));
    b.token_ids.push_back(static_cast<int32_t>((pos * 31 + static_cast<int32_t>(i) * 7) % vocab));
    b.positions.push_back(pos);
    b.slots.push_back((s.first_block + pos / kBlockSize) * kBlockSize + pos % kBlockSize);
    b.context_lens.push_back(pos + 1);
    for (int64_t j = 0; j < width; j++) b.block_tables.push_back(j < used ? s.first_block + static_cast<int32_t>(j) : 0);
    b.logits_rows.push_back(static_cast<int32_t>(i));
    s.context++;
  }
  b.query_start.push_back(static_cast<int32_t>(seqs.size()));
  return b;
}

TEST(CudaGraph, ReplayMatchesEagerOverChangingBatchesAndWidths) {
  std::unique_ptr<Backend> be;
  try {
    be = make_cuda_backend(0);
  } catch (const Error& e) {
    GTEST_SKIP() << e.what();
  }
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("tpserve-graph-test-" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  bench::write_tiny_checkpoint(dir, bench::TinyShape{}, 77);
  ModelWeights host = load_model_weights(dir, TensorParallel{});
  std::filesystem::remove_all(dir);
  ModelWeights dev = upload_weights(host, *be, nullptr);
  const ModelConfig& c = dev.config;
  auto comm = make_single_communicator();
  const KvLayout layout{kNumBlocks, c.num_key_value_heads, kBlockSize, c.head_dim};
  KvCache kv_eager(*be, c.num_hidden_layers, layout, DType::BF16), kv_graph(*be, c.num_hidden_layers, layout, DType::BF16);
  // Identical random caches: the decode steps attend over contexts nobody prefilled.
  const int64_t cache_elems = layout.num_blocks * layout.num_kv_heads * kBlockSize * layout.head_dim;
  cudaStream_t stream = cuda::backend_stream(*be);
  for (int64_t l = 0; l < c.num_hidden_layers; l++) {
    cuda::random_fill(kv_eager.k(l), DType::BF16, cache_elems, 100 + l, -1.f, 1.f, stream);
    cuda::random_fill(kv_eager.v(l), DType::BF16, cache_elems, 200 + l, -1.f, 1.f, stream);
    const size_t bytes = static_cast<size_t>(cache_elems) * 2;
    be->copy_2d(kv_graph.k(l), bytes, kv_eager.k(l), bytes, bytes, 1);
    be->copy_2d(kv_graph.v(l), bytes, kv_eager.v(l), bytes, bytes, 1);
  }
  be->synchronize();
  Decoder eager(dev, *be, *comm, kv_eager), graphs(dev, *be, *comm, kv_graph);
  auto runner = make_decode_runner(*be, 256);
  ASSERT_TRUE(runner) << "TPSERVE_CUDA_GRAPHS=0 turns the graphs off: unset it for this test";
  const DecodeRunner* runner_ptr = runner.get();
  graphs.set_decode_runner(std::move(runner));

  // Two copies of the sequence state: each decoder advances its own.
  std::vector<Seq> short_a, short_b;
  for (int64_t s = 0; s < kNumShort; s++) {
    Seq q{static_cast<int32_t>(s * kSeqBlocks), static_cast<int32_t>(20 + 9 * s)};
    short_a.push_back(q), short_b.push_back(q);
  }
  Seq long_a{static_cast<int32_t>(kNumShort * kSeqBlocks), static_cast<int32_t>(kLongContext)}, long_b = long_a;

  struct Phase {
    int64_t batch, width;
    bool is_long;
  };
  // 1 -> 8 -> 1 -> 64 -> 1 at changing widths (buckets 128, 32, 128, 64, 128, 16), then one
  // sequence past 64K tokens (bucket 8192). The widest short bucket comes first, so the batch-1
  // graph survives the larger batches' eager runs and replays after them (the use-after-free case
  // when a larger batch reallocated the op scratch under it).
  const Phase phases[] = {{1, 100, false}, {8, 20, false}, {1, 100, false}, {64, 48, false},
                          {1, 100, false}, {1, 3, false},  {1, kLongBlocks, true}};
  std::vector<float> la, lb;
  int64_t steps = 0;
  for (const Phase& ph : phases)
    for (int rep = 0; rep < 2; rep++) {
      std::vector<Seq*> sa, sb;
      if (ph.is_long) sa = {&long_a}, sb = {&long_b};
      for (int64_t s = 0; !ph.is_long && s < ph.batch; s++) sa.push_back(&short_a[s]), sb.push_back(&short_b[s]);
      ForwardBatch ba = decode_step(sa, ph.width, c.vocab_size), bb = decode_step(sb, ph.width, c.vocab_size);
      la.resize(static_cast<size_t>(ph.batch * c.vocab_size));
      lb.resize(la.size());
      be->copy_to_host(la.data(), eager.forward(ba, nullptr), la.size() * sizeof(float));
      be->copy_to_host(lb.data(), graphs.forward(bb, nullptr), lb.size() * sizeof(float));
      for (int64_t r = 0; r < ph.batch; r++)
        ASSERT_LT(rel_l2(lb.data() + r * c.vocab_size, la.data() + r * c.vocab_size, c.vocab_size), kTolerance)
            << "step " << steps << ": batch " << ph.batch << " width " << ph.width << " row " << r;
      steps++;
    }
  const cuda::DecodeGraphStats st = cuda::decode_graph_stats(*runner_ptr);
  // Keys (batch, width bucket): (1,128) (8,32) (64,64) (1,16) (1,8192): five captures. Replays:
  // the second step of each phase, and both steps of each return to (1,128): 7 + 2 = 9. The long
  // sequence's wider block table (and RoPE table) is the one reallocation: one invalidation.
  EXPECT_EQ(st.num_captures, 5) << "captures";
  EXPECT_EQ(st.num_replays, 9) << "replays";
  EXPECT_EQ(st.num_invalidations, 1) << "invalidations";
}

}  // namespace
}  // namespace tpserve
#endif  // TPSERVE_WITH_CUDA
