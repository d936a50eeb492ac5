// What the engine, the benchmark and the GPU tests may reach of the CUDA backend
// (engine/cuda_backend.cpp) beyond the Backend interface.
#pragma once
#include <cstdint>
#include <memory>

#include "tpserve/backend.h"

namespace tpserve {

class DecodeRunner;  // model/decoder.h

// The CUDA-graph decode runner for a CUDA backend (engine/cuda_graph_runner.h); nullptr for
// any other backend, in builds without CUDA, or when TPSERVE_CUDA_GRAPHS=0. Attach it with
// decoder.set_decode_runner(make_decode_runner(backend)).
std::unique_ptr<DecodeRunner> make_decode_runner(Backend& backend, int64_t max_batch = 256);

}  // namespace tpserve

#ifdef TPSERVE_WITH_CUDA
#include <cuda_runtime_api.h>

#include "kernels/cuda/cublaslt.h"

namespace tpserve::cuda {
// The backend's stream, made current on the calling thread (as every backend call does).
cudaStream_t backend_stream(Backend& backend);
// The backend's cuBLASLt instance; nullptr when cuBLASLt is missing.
CublasLt* backend_cublaslt(Backend& backend);
}  // namespace tpserve::cuda
#endif
