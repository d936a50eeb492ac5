// NCCL communicator entry points. The NCCL implementation (dlopen of libnccl) comes with the
// CUDA backend; until then these refuse clearly instead of failing to link.
#include "tpserve/communicator.h"
#include "tpserve/error.h"

namespace tpserve {

#ifndef TPSERVE_WITH_NCCL
std::string create_nccl_unique_id() {
  TPS_THROW("the NCCL communicator is not available in this build (CPU ranks use shared memory)");
}

std::unique_ptr<Communicator> make_nccl_communicator(const std::string&, int, int, int) {
  TPS_THROW("the NCCL communicator is not available in this build (CPU ranks use shared memory)");
}
#endif

}  // namespace tpserve
