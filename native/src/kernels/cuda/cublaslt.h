// cuBLASLt, opened with dlopen at run time (no cuBLAS headers or libraries at build time): the
// GEMMs of the CUDA backend's `linear`. The handful of types and functions used are declared in
// cublaslt.cpp from the documented C API.
//
// Precision (the choice of docs/cuda-backend.md): activations stay fp32 in the decoder, so
// linear() rounds x to the weight's 16-bit type in a small cast kernel and runs
//   D[m,n] (fp32) = A (x, bf16|f16) · B (W, bf16|f16)^T  (+ bias fp32)
// with fp32 accumulation (CUBLAS_COMPUTE_32F). F32 weights run plain fp32 (no TF32), exact
// enough for the fp32 parity tests. Bias goes through the BIAS epilogue.
// Plans (descriptors + heuristic algo) are cached per shape/dtype/alignment; one 32 MiB workspace.
// Nothing here allocates during CUDA-graph capture once a shape has run eagerly once (or the
// scratch was reserved for it); a reallocation bumps scratch_generation().
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "tpserve/tensor.h"

namespace tpserve::cuda {

// True when libcublasLt could be opened and every symbol resolved (tried once per process).
bool cublaslt_available();
// Why it could not be opened ("" when available).
const std::string& cublaslt_load_error();
// "13.0.2" style version of the loaded library, or "" when unavailable.
std::string cublaslt_version();

// One cuBLASLt handle with its workspace, plan cache and activation scratch, for one device.
// Not thread-safe: use from the thread that owns the backend's stream.
class CublasLt {
 public:
  // Throws "libcublasLt not found: install the CUDA toolkit's cuBLAS (...)" when unavailable.
  CublasLt();
  ~CublasLt();
  CublasLt(const CublasLt&) = delete;
  CublasLt& operator=(const CublasLt&) = delete;

  // y[m, n] = x[m, k] · W[n, k]^T (+ bias[n]); x, y fp32 row-major on the device; W bf16, f16
  // or f32 ([n, k] row-major, a Tensor on the device); bias f32 [n] or nullptr. ldy: the row
  // stride of y (0: n), so that a weight split in row chunks writes its columns of a wider y.
  void linear(const float* x, const Tensor& weight, const Tensor* bias, int64_t m, float* y, cudaStream_t stream,
              int64_t ldy = 0);

  // The raw product: D[m, n] (fp32) = A[m, k] · B[n, k]^T (+ bias), A and B both of `ab`
  // (BF16, F16 or F32), all row-major device pointers, D's rows ldd apart (0: n). Used by
  // linear() and the benchmark.
  void gemm(DType ab, const void* a, const void* b, const float* bias, int64_t m, int64_t n, int64_t k, float* d,
            cudaStream_t stream, int64_t ldd = 0);

  // FP8 (sm_89+): D[m, n] (fp32, rows ldd apart) = (x_scale * X[m, k]) · (w_scale * W[n, k])^T with
  // X and W e4m3 row-major (W's rows ldw bytes apart), x_scale / w_scale one device float each
  // (per-tensor scales). Returns false, queuing nothing, when cuBLASLt has no FP8 algorithm for
  // the shape (older GPU or library): the caller takes another path.
  bool gemm_fp8(const void* x, const float* x_scale, const void* w, int64_t ldw, const float* w_scale, int64_t m,
                int64_t n, int64_t k, float* d, int64_t ldd, cudaStream_t stream);
  // Whether gemm_fp8 has an algorithm for these operands (asks cuBLASLt once per shape).
  bool has_gemm_fp8(const void* x, const void* w, int64_t ldw, int64_t m, int64_t n, int64_t k, const float* d,
                    int64_t ldd);

  // Grows the activation scratch to hold `elements` 16-bit values now (call before capture).
  void reserve_scratch(int64_t elements);
  // Bumped each time the activation scratch is reallocated (captured graphs hold its address).
  uint64_t scratch_generation() const { return scratch_generation_; }
  size_t num_plans() const { return plans_.size(); }

 private:
  struct Plan;
  using Key = std::tuple<int, int64_t, int64_t, int64_t, int64_t, bool, int, int64_t>;
  void ensure_scratch(int64_t elements, cudaStream_t stream);
  Plan& plan(DType ab, int64_t m, int64_t n, int64_t k, bool has_bias, int alignment, int64_t ldd);
  // The cached plan of a shape (W's rows ldb elements apart); a shape with no algorithm throws when
  // required, else gives (and remembers) nullptr.
  Plan* find_plan(DType ab, int64_t m, int64_t n, int64_t k, int64_t ldb, bool has_bias, int alignment, int64_t ldd,
                  bool required);

  void* handle_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  void* scratch_ = nullptr;  // x rounded to 16 bits: [m, k]
  int64_t scratch_elements_ = 0;
  uint64_t scratch_generation_ = 0;
  std::map<Key, std::unique_ptr<Plan>> plans_;
};

// The cast kernel of cublaslt_cast.cu: out[i] = round(x[i]) to bf16 (to_bf16) or f16.
void cast_f32_to_16bit(const float* x, void* out, int64_t n, bool to_bf16, cudaStream_t stream);

}  // namespace tpserve::cuda
