// EngineImpl: the Engine's state, shared by engine_load.cpp (construction) and engine_step.cpp.
#pragma once
#include <memory>
#include <random>
#include <unordered_map>

#include "engine/sequence_state.h"
#include "model/decoder.h"
#include "tpserve/backend.h"
#include "tpserve/communicator.h"
#include "tpserve/engine.h"

namespace tpserve {

class EngineImpl final : public Engine {
 public:
  EngineImpl(const EngineOptions& options, const ProgressFn& progress);

  const EngineInfo& info() const override { return info_; }
  size_t num_sequences() const override { return seqs_.size(); }

  StepOutput step(const StepInput& in) override;

 private:
  void validate(const StepInput& in) const;
  void sample(const StepInput& in, const float* logits, StepOutput& out);
  void apply_token_masks(const StepInput& in, const float* logits);
  void share_samples(const StepInput& in, StepOutput& out);

  EngineInfo info_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Communicator> comm_;
  std::unique_ptr<KvCache> kv_;
  std::unique_ptr<Decoder> decoder_;
  std::unordered_map<uint64_t, SequenceState> seqs_;
  bool is_driver_ = true;
  Tensor shared_ids_;  // (max sampled seqs) int32 on the device: share_samples' staging buffer
  std::mt19937_64 seed_source_{std::random_device{}()};
};

}  // namespace tpserve
