// Thread-local current stream of the CUDA launchers (see stream.cuh).
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda {
namespace {
thread_local cudaStream_t t_stream = nullptr;
}  // namespace

cudaStream_t current_stream() { return t_stream; }
void set_current_stream(cudaStream_t stream) { t_stream = stream; }
}  // namespace tpserve::cuda
