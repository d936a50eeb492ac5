// Single-rank communicator (tp = 1): every collective is a no-op or a copy, so a one-rank
// engine never touches shared memory or NCCL. Tests: tests/shm_communicator_test.cpp.
#include <cstring>

#include "tpserve/communicator.h"
#include "tpserve/error.h"

namespace tpserve {
namespace {

class SingleCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* kind() const override { return "single"; }

  void all_reduce_sum(float* data, int64_t count) override {
    TPS_CHECK(count >= 0, "single all_reduce: negative count ", count);
  }

  void all_gather(const float* send, int64_t count, float* recv) override {
    TPS_CHECK(count >= 0, "single all_gather: negative count ", count);
    if (count > 0 && send != recv) std::memmove(recv, send, static_cast<size_t>(count) * sizeof(float));
  }

  void broadcast(void* data, int64_t bytes, int root) override {
    TPS_CHECK(root == 0, "single broadcast: root ", root, " out of range for size 1");
    TPS_CHECK(bytes >= 0, "single broadcast: negative byte count ", bytes);
  }
};

}  // namespace

std::unique_ptr<Communicator> make_single_communicator() { return std::make_unique<SingleCommunicator>(); }

}  // namespace tpserve
