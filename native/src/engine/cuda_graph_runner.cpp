// CUDA-graph decode runner (see cuda_graph_runner.h): pads pure-decode batches to a captured
// size, stages their metadata into the decoder's fixed buffers, and replays the graph of run().
// GPU tests: tests/cuda_graph_test.cpp (replay over changing batch sizes and widths vs eager).
#ifdef TPSERVE_WITH_CUDA
#include "engine/cuda_graph_runner.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {

constexpr int64_t kMinWidth = 16;      // block-table width buckets: 16, 32, 64, ... blocks
constexpr int64_t kMaxWidth = 1 << 15; // past this (512k tokens at block 16) decode runs eagerly

int64_t next_pow2(int64_t v) {
  int64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

class DecodeGraphRunner final : public DecodeRunner {
 public:
  explicit DecodeGraphRunner(int64_t max_batch) : max_batch_(next_pow2(std::max<int64_t>(max_batch, 1))) {}

  ~DecodeGraphRunner() override { drop_all(); }

  bool try_forward(DecodeTarget& d, const ForwardBatch& b) override {
    const int64_t n = b.num_seqs();
    // Only batches of one-token decodes, each sequence at most one logits row.
    if (n == 0 || b.num_tokens() != n || n > max_batch_ || static_cast<int64_t>(b.logits_rows.size()) > n) {
      stats_.num_eager++;
      return false;
    }
    const int64_t batch = next_pow2(n);
    const int64_t width = std::max(kMinWidth, next_pow2(std::max<int64_t>(b.max_blocks_per_seq, 1)));
    if (width > kMaxWidth) {
      stats_.num_eager++;
      return false;
    }
    pad(b, batch, width);
    // Buffers and op scratch for the largest batch at this width: graphs of every size share them.
    d.reserve(max_batch_, max_batch_, max_batch_, width);
    d.stage(padded_);
    drop_if_stale(d);
    cudaStream_t stream = current_stream();
    const std::pair<int64_t, int64_t> key{batch, width};
    auto it = graphs_.find(key);
    if (it != graphs_.end()) {
      if (it->second) {
        TPS_CUDA_CHECK(cudaGraphLaunch(it->second, stream));
        stats_.num_replays++;
      } else {
        d.run(batch, batch);  // this key failed to capture once: stay eager
        stats_.num_eager++;
      }
      return true;
    }
    // First batch of this key: run it eagerly (this step's result, and the warm-up of cuBLASLt
    // plans), then capture the same work for the next steps. Had the eager run reallocated
    // anything, the graphs captured before would point at freed memory: drop them first.
    d.run(batch, batch);
    stats_.num_eager++;
    drop_if_stale(d);
    graphs_[key] = capture(d, stream, batch);
    return true;
  }

  DecodeGraphStats stats() const { return stats_; }

 private:
  // padded_ = b padded to `batch` sequences and a block table `width` wide.
  void pad(const ForwardBatch& b, int64_t batch, int64_t width) {
    const int64_t n = b.num_seqs();
    ForwardBatch& p = padded_;
    p.token_ids.assign(b.token_ids.begin(), b.token_ids.end());
    p.positions.assign(b.positions.begin(), b.positions.end());
    p.slots.assign(b.slots.begin(), b.slots.end());
    p.context_lens.assign(b.context_lens.begin(), b.context_lens.end());
    p.token_ids.resize(batch, 0);
    p.positions.resize(batch, 0);
    p.slots.resize(batch, -1);         // kv_write skips negative slots
    p.context_lens.resize(batch, 1);   // attends to position 0 of block 0: read only
    p.query_start.resize(batch + 1);
    for (int64_t i = 0; i <= batch; i++) p.query_start[i] = static_cast<int32_t>(i);
    p.max_blocks_per_seq = width;
    p.block_tables.assign(batch * width, 0);
    for (int64_t s = 0; s < n; s++)
      std::copy_n(b.block_tables.begin() + s * b.max_blocks_per_seq, b.max_blocks_per_seq,
                  p.block_tables.begin() + s * width);
    // The graph always computes `batch` logits rows: the wanted ones first, then filler rows.
    p.logits_rows.assign(b.logits_rows.begin(), b.logits_rows.end());
    for (int64_t r = static_cast<int64_t>(p.logits_rows.size()); r < batch; r++)
      p.logits_rows.push_back(static_cast<int32_t>(r));
  }

  cudaGraphExec_t capture(DecodeTarget& d, cudaStream_t stream, int64_t batch) {
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    TPS_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    std::string failure;
    try {
      d.run(batch, batch);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    cudaError_t e = cudaStreamEndCapture(stream, &graph);
    if (failure.empty() && e != cudaSuccess) failure = std::string("cudaStreamEndCapture: ") + cudaGetErrorString(e);
    if (failure.empty()) {
      e = cudaGraphInstantiate(&exec, graph, 0);
      if (e != cudaSuccess) failure = std::string("cudaGraphInstantiate: ") + cudaGetErrorString(e);
    }
    if (graph) cudaGraphDestroy(graph);
    if (!failure.empty()) {
      cudaGetLastError();  // capture errors are not sticky: clear them and go on eagerly
      std::fprintf(stderr, "tpserve: warning: CUDA graph capture of decode batch %lld failed (%s); it runs eagerly\n",
                   static_cast<long long>(batch), failure.c_str());
      return nullptr;
    }
    stats_.num_captures++;
    return exec;
  }

  // Something was reallocated since the graphs were captured: every captured address may be stale.
  void drop_if_stale(const DecodeTarget& d) {
    const uint64_t now = d.buffers_generation();
    if (now == generation_) return;
    if (!graphs_.empty()) stats_.num_invalidations++;
    drop_all();
    generation_ = now;
  }

  void drop_all() {
    for (auto& [key, exec] : graphs_)
      if (exec) cudaGraphExecDestroy(exec);
    graphs_.clear();
  }

  int64_t max_batch_;
  uint64_t generation_ = ~uint64_t{0};
  std::map<std::pair<int64_t, int64_t>, cudaGraphExec_t> graphs_;  // (batch, width) → graph or nullptr
  ForwardBatch padded_;
  DecodeGraphStats stats_;
};

}  // namespace

std::unique_ptr<DecodeRunner> make_decode_graph_runner(int64_t max_batch) {
  const char* env = std::getenv("TPSERVE_CUDA_GRAPHS");
  if (env && std::strcmp(env, "0") == 0) return nullptr;
  return std::make_unique<DecodeGraphRunner>(max_batch);
}

DecodeGraphStats decode_graph_stats(const DecodeRunner& runner) {
  auto* r = dynamic_cast<const DecodeGraphRunner*>(&runner);
  return r ? r->stats() : DecodeGraphStats{};
}

}  // namespace tpserve::cuda
#endif  // TPSERVE_WITH_CUDA
