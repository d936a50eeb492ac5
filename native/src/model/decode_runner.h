// The seam between the decoder and the ways of running it other than op by op (the CUDA-graph
// runner, engine/cuda_graph_runner.h): a DecodeRunner sees the decoder only as a DecodeTarget.
#pragma once
#include <cstdint>

#include "model/forward_batch.h"

namespace tpserve {

// What a runner may do with a decoder: forward() = stage() + run() + synchronize().
class DecodeTarget {
 public:
  virtual ~DecodeTarget() = default;
  // Sizes the device buffers for the batch and queues the copy of its metadata.
  virtual void stage(const ForwardBatch& batch) = 0;
  // Queues the device work over the staged metadata: num_tokens rows, logits for num_logits.
  // No host synchronisation and no allocation inside: it can be captured into a CUDA graph.
  virtual void run(int64_t num_tokens, int64_t num_logits) = 0;
  // Allocates every device buffer and the backend's op scratch for at least these sizes now.
  virtual void reserve(int64_t num_tokens, int64_t num_logits, int64_t num_seqs, int64_t max_blocks_per_seq) = 0;
  // Changes whenever a device buffer or the backend's op scratch is reallocated: graphs
  // captured before hold stale addresses.
  virtual uint64_t buffers_generation() const = 0;
};

// Serves some batches another way than eager op-by-op execution. Decoder::forward() asks it first.
class DecodeRunner {
 public:
  virtual ~DecodeRunner() = default;
  // Runs the batch through target.stage()/run() (or a replay of them) and returns true, or
  // returns false to leave the batch to forward()'s eager path.
  virtual bool try_forward(DecodeTarget& target, const ForwardBatch& batch) = 0;
};

}  // namespace tpserve
