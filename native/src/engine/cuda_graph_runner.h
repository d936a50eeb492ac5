// CUDA graphs for decode: a DecodeRunner (model/decode_runner.h) that serves every batch made
// only of one-token decodes by replaying a captured graph of DecodeTarget::run().
//
// - Captured batch sizes: 1, 2, 4, 8, 16, 32, 64, 128, 256; a batch of n is padded to the next
//   one with dummy sequences (token 0, slot -1 so kv_write skips it, context 1 over block 0 —
//   read, never written), whose logits rows are ignored.
// - Block tables are padded to a power-of-two width (at least 16 blocks); graphs are keyed by
//   (batch size, width) and captured lazily: the first batch of a key runs eagerly (warming up
//   cuBLASLt plans), then the same work is captured for later steps.
// - Before the first capture the target reserves its buffers and the backend's op scratch for
//   the largest batch, so graphs of every size share the addresses. Whenever
//   DecodeTarget::buffers_generation() changes anyway (a larger prefill grew a buffer or the
//   scratch), every graph is dropped: none replays over freed memory.
// - TPSERVE_CUDA_GRAPHS=0 turns the runner off (every batch runs eagerly).
// Built with CUDA only (engine/cuda_backend.cpp's make_decode_runner is the portable entry).
#pragma once
#include <cstdint>
#include <memory>

#include "model/decode_runner.h"

namespace tpserve::cuda {

// The runner for a decoder on a CUDA backend; attach with decoder.set_decode_runner(...).
// Returns nullptr when TPSERVE_CUDA_GRAPHS=0.
std::unique_ptr<DecodeRunner> make_decode_graph_runner(int64_t max_batch = 256);

// Counters of a runner made by make_decode_graph_runner (for tests and the benchmark).
struct DecodeGraphStats {
  int64_t num_captures = 0;
  int64_t num_replays = 0;
  int64_t num_eager = 0;  // batches it declined or ran eagerly (first of a key, failed capture)
  int64_t num_invalidations = 0;  // times every graph was dropped for a reallocated buffer
};
DecodeGraphStats decode_graph_stats(const DecodeRunner& runner);

}  // namespace tpserve::cuda
