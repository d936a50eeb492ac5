// Shared helpers of the CUDA parity tests (cuda_*_test.cpp; only built with TPSERVE_WITH_CUDA):
// a fixture that skips without a GPU and runs the ops on a non-default stream, device buffers,
// device copies of CPU tensors, and the relative error of a CUDA output against its CPU twin.
#pragma once
#ifdef TPSERVE_WITH_CUDA
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/add.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/kv_write.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/rms_norm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/sample.h"
#include "kernels/cpu/silu_mul.h"
#include "kernels/cuda/add.cuh"
#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/embedding.cuh"
#include "kernels/cuda/kv_write.cuh"
#include "kernels/cuda/linear.cuh"
#include "kernels/cuda/rms_norm.cuh"
#include "kernels/cuda/rope.cuh"
#include "kernels/cuda/sample.cuh"
#include "kernels/cuda/silu_mul.cuh"
#include "kernels/cuda/stream.cuh"
#include "test_util.h"

namespace tpserve::test {

inline bool has_cuda_gpu() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return n > 0;
}

// Skips without a GPU; the ops run on a fresh blocking stream (so the plain cudaMemcpy of the
// helpers orders with them), synchronised before any result is read.
class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!has_cuda_gpu()) GTEST_SKIP() << "no CUDA GPU found";
    TPS_CUDA_CHECK(cudaStreamCreate(&stream_));
    cuda::set_current_stream(stream_);
  }
  void TearDown() override {
    if (!stream_) return;
    cuda::set_current_stream(nullptr);
    cudaStreamSynchronize(stream_);
    cudaStreamDestroy(stream_);
  }
  cudaStream_t stream_ = nullptr;
};

// A device copy of a host vector; get() syncs the device and copies back.
template <typename T>
struct Dev {
  T* ptr = nullptr;
  size_t n = 0;
  explicit Dev(const std::vector<T>& host) : n(host.size()) {
    TPS_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr), std::max<size_t>(1, n) * sizeof(T)));
    if (n) TPS_CUDA_CHECK(cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice));
  }
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
  ~Dev() { cudaFree(ptr); }
  std::vector<T> get() const {
    TPS_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<T> host(n);
    if (n) TPS_CUDA_CHECK(cudaMemcpy(host.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
};

// A device tensor holding the bytes of a CPU tensor.
inline Tensor to_device(const Tensor& host) {
  void* p = nullptr;
  TPS_CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(16, host.nbytes())));
  TPS_CUDA_CHECK(cudaMemcpy(p, host.data(), host.nbytes(), cudaMemcpyHostToDevice));
  return Tensor(p, host.dtype(), host.shape(), Device{DeviceKind::Cuda, 0},
                std::shared_ptr<void>(p, [](void* q) { cudaFree(q); }));
}

inline void store_as(DType dt, void* base, size_t i, float v) {
  if (dt == DType::F32) static_cast<float*>(base)[i] = v;
  else if (dt == DType::BF16) static_cast<uint16_t*>(base)[i] = float_to_bf16(v);
  else static_cast<uint16_t*>(base)[i] = float_to_f16(v);
}

// max |got - want| / max |want|; infinite when got holds a NaN the reference does not.
inline double rel_err(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
  double scale = 1e-6, err = 0;
  for (float w : want) scale = std::max(scale, std::fabs(static_cast<double>(w)));
  for (size_t i = 0; i < got.size(); i++) {
    if (std::isnan(want[i]) && std::isnan(got[i])) continue;
    const double e = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(e == e)) return std::numeric_limits<double>::infinity();
    err = std::max(err, e);
  }
  return err / scale;
}

inline double tolerance(DType dt) { return dt == DType::F32 ? 1e-5 : 1e-2; }

}  // namespace tpserve::test
#endif  // TPSERVE_WITH_CUDA
