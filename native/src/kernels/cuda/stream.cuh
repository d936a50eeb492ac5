// The stream every tpserve::cuda launcher queues its work on: thread-local, set by the backend
// (CudaBackend::bind) on the thread that runs the ops; nullptr (the legacy default stream) until set.
#pragma once
#include <cuda_runtime_api.h>

namespace tpserve::cuda {
cudaStream_t current_stream();
void set_current_stream(cudaStream_t stream);
}  // namespace tpserve::cuda
