// Error checks of the CUDA code: TPS_CUDA_CHECK(call) throws tpserve::Error (error.h) carrying
// the CUDA error name and text and the file:line of the call; TPS_CUDA_CHECK_LAUNCH() checks a
// kernel launch. Never exits. Plain C++: included by .cu files and by the backend's .cpp files.
#pragma once
#include <cuda_runtime_api.h>

#include "tpserve/error.h"

#define TPS_CUDA_CHECK(call)                                                                       \
  do {                                                                                             \
    const cudaError_t tps_cuda_err_ = (call);                                                      \
    if (tps_cuda_err_ != cudaSuccess) {                                                            \
      cudaGetLastError(); /* clear a non-sticky error so later calls start clean */                \
      TPS_THROW("CUDA error ", cudaGetErrorName(tps_cuda_err_), " (", cudaGetErrorString(tps_cuda_err_), ") in ", \
                #call);                                                                            \
    }                                                                                              \
  } while (0)

// After a <<<...>>> launch: bad configurations surface here, faults in the kernel at the next sync.
#define TPS_CUDA_CHECK_LAUNCH() TPS_CUDA_CHECK(cudaGetLastError())
