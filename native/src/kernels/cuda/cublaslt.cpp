// cuBLASLt through dlopen: the C API subset declared from NVIDIA's documentation (types, enum
// values, signatures), loaded once per process; CublasLt plans, caches and runs the GEMMs.
// Tested on a GPU by the op parity test (linear) and native/bench/seed_oss_bench (GEMM rate).
#include "kernels/cuda/cublaslt.h"

#include <library_types.h>

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/dl_library.h"
#include "tpserve/error.h"

namespace tpserve::cuda {
namespace {

// ---- The documented C API (cublasLt.h), as far as used here.
using LtStatus = int;  // cublasStatus_t: 0 = CUBLAS_STATUS_SUCCESS
using LtHandle = void*;
using LtDesc = void*;
using LtLayout = void*;
using LtPref = void*;
struct LtAlgo {
  uint64_t data[8];
};
struct LtHeuristic {
  LtAlgo algo;
  size_t workspace_size;
  LtStatus state;
  float waves_count;
  int reserved[4];
};
constexpr int kComputeF32 = 68;         // CUBLAS_COMPUTE_32F
constexpr int kOpN = 0, kOpT = 1;       // cublasOperation_t
constexpr int kDescTransA = 3;          // cublasLtMatmulDescAttributes_t
constexpr int kDescTransB = 4;
constexpr int kDescEpilogue = 7;
constexpr int kDescBiasPointer = 8;
constexpr int kDescAScalePointer = 17;  // FP8: device float scales of cuBLASLt's A and B
constexpr int kDescBScalePointer = 18;
constexpr uint32_t kEpilogueDefault = 1;  // cublasLtEpilogue_t
constexpr uint32_t kEpilogueBias = 4;
constexpr int kPrefMaxWorkspace = 1;    // cublasLtMatmulPreferenceAttributes_t (uint64)
constexpr int kPrefMinAlignA = 5, kPrefMinAlignB = 6, kPrefMinAlignC = 7, kPrefMinAlignD = 8;  // (uint32)

struct Api {
  LtStatus (*create)(LtHandle*);
  LtStatus (*destroy)(LtHandle);
  size_t (*get_version)();
  LtStatus (*desc_create)(LtDesc*, int compute_type, cudaDataType_t scale_type);
  LtStatus (*desc_set)(LtDesc, int attr, const void* buf, size_t size);
  LtStatus (*desc_destroy)(LtDesc);
  LtStatus (*layout_create)(LtLayout*, cudaDataType_t type, uint64_t rows, uint64_t cols, int64_t ld);
  LtStatus (*layout_destroy)(LtLayout);
  LtStatus (*pref_create)(LtPref*);
  LtStatus (*pref_set)(LtPref, int attr, const void* buf, size_t size);
  LtStatus (*pref_destroy)(LtPref);
  LtStatus (*heuristic)(LtHandle, LtDesc, LtLayout a, LtLayout b, LtLayout c, LtLayout d, LtPref, int requested,
                        LtHeuristic* results, int* returned);
  LtStatus (*matmul)(LtHandle, LtDesc, const void* alpha, const void* a, LtLayout, const void* b, LtLayout,
                     const void* beta, const void* c, LtLayout, void* d, LtLayout, const LtAlgo* algo,
                     void* workspace, size_t workspace_bytes, cudaStream_t stream);
};

struct Loaded {
  Api api{};
  bool ok = false;
  std::string error;
};

const Loaded& loaded() {
  static Loaded l;
  static std::once_flag once;
  std::call_once(once, [] {
    DlLibrary lib;
    if (!lib.open("TPSERVE_CUBLASLT_LIBRARY", {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"},
                  cuda_library_folders())) {
      l.error = "libcublasLt not found: install the CUDA toolkit's cuBLAS (or point TPSERVE_CUBLASLT_LIBRARY at "
                "libcublasLt.so); tried: " + lib.tried();
      return;
    }
    Api& a = l.api;
    bool ok = lib.sym(a.create, "cublasLtCreate") & lib.sym(a.destroy, "cublasLtDestroy") &
              lib.sym(a.get_version, "cublasLtGetVersion") & lib.sym(a.desc_create, "cublasLtMatmulDescCreate") &
              lib.sym(a.desc_set, "cublasLtMatmulDescSetAttribute") &
              lib.sym(a.desc_destroy, "cublasLtMatmulDescDestroy") &
              lib.sym(a.layout_create, "cublasLtMatrixLayoutCreate") &
              lib.sym(a.layout_destroy, "cublasLtMatrixLayoutDestroy") &
              lib.sym(a.pref_create, "cublasLtMatmulPreferenceCreate") &
              lib.sym(a.pref_set, "cublasLtMatmulPreferenceSetAttribute") &
              lib.sym(a.pref_destroy, "cublasLtMatmulPreferenceDestroy") &
              lib.sym(a.heuristic, "cublasLtMatmulAlgoGetHeuristic") & lib.sym(a.matmul, "cublasLtMatmul");
    if (!ok) {
      l.error = "libcublasLt at " + lib.path() + " lacks " + lib.missing();
      return;
    }
    l.ok = true;
  });
  return l;
}

const char* status_name(LtStatus s) {
  switch (s) {
    case 0: return "CUBLAS_STATUS_SUCCESS";
    case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7: return "CUBLAS_STATUS_INVALID_VALUE";
    case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "CUBLAS_STATUS_?";
  }
}

#define TPS_LT_CHECK(call)                                                                   \
  do {                                                                                       \
    LtStatus tps_lt_status_ = (call);                                                        \
    TPS_CHECK(tps_lt_status_ == 0, "cuBLASLt: ", #call, " failed: ", status_name(tps_lt_status_), \
              " (", tps_lt_status_, ")");                                                    \
  } while (0)

cudaDataType_t cuda_type(DType d) {
  switch (d) {
    case DType::BF16: return CUDA_R_16BF;
    case DType::F16: return CUDA_R_16F;
    case DType::F32: return CUDA_R_32F;
    case DType::F8_E4M3: return CUDA_R_8F_E4M3;
    default: break;
  }
  return CUDA_R_32F;
}

// Largest power of two (<= 256) dividing the address: the alignment the heuristic may assume.
int alignment_of(const void* p) {
  auto v = reinterpret_cast<uintptr_t>(p);
  int a = 256;
  while (a > 1 && (v % static_cast<uintptr_t>(a)) != 0) a /= 2;
  return a;
}

constexpr size_t kWorkspaceBytes = size_t{32} << 20;
constexpr size_t kMaxPlans = 4096;  // prefill chunk sizes vary; start over past this

}  // namespace

bool cublaslt_available() { return loaded().ok; }
const std::string& cublaslt_load_error() { return loaded().error; }

std::string cublaslt_version() {
  if (!loaded().ok) return "";
  size_t v = loaded().api.get_version();
  return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." + std::to_string(v % 100);
}

struct CublasLt::Plan {
  LtDesc desc = nullptr;
  LtLayout a = nullptr, b = nullptr, d = nullptr;
  LtAlgo algo{};
  size_t workspace = 0;
  ~Plan() {
    const Api& api = loaded().api;
    if (desc) api.desc_destroy(desc);
    for (LtLayout l : {a, b, d})
      if (l) api.layout_destroy(l);
  }
};

CublasLt::CublasLt() {
  TPS_CHECK(loaded().ok, loaded().error);
  LtHandle h = nullptr;
  TPS_LT_CHECK(loaded().api.create(&h));
  handle_ = h;
  TPS_CUDA_CHECK(cudaMalloc(&workspace_, kWorkspaceBytes));
  workspace_bytes_ = kWorkspaceBytes;
}

CublasLt::~CublasLt() {
  plans_.clear();
  if (scratch_) cudaFree(scratch_);
  if (workspace_) cudaFree(workspace_);
  if (handle_) loaded().api.destroy(handle_);
}

void CublasLt::reserve_scratch(int64_t elements) { ensure_scratch(elements, nullptr); }

void CublasLt::ensure_scratch(int64_t elements, cudaStream_t stream) {
  if (elements <= scratch_elements_) return;
  if (stream) {
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    TPS_CUDA_CHECK(cudaStreamIsCapturing(stream, &capture));
    // A captured graph must never see a reallocation: the decode graphs run each shape eagerly first.
    TPS_CHECK(capture == cudaStreamCaptureStatusNone, "cuBLASLt scratch must grow to ", elements,
              " elements during CUDA-graph capture: run the shape eagerly before capturing it");
  }
  if (scratch_) TPS_CUDA_CHECK(cudaFree(scratch_));  // cudaFree waits for queued work that reads it
  scratch_ = nullptr;
  int64_t grown = std::max<int64_t>(elements, scratch_elements_ * 2);
  TPS_CUDA_CHECK(cudaMalloc(&scratch_, static_cast<size_t>(grown) * 2));
  scratch_elements_ = grown;
  scratch_generation_++;
}

CublasLt::Plan& CublasLt::plan(DType ab, int64_t m, int64_t n, int64_t k, bool has_bias, int alignment,
                               int64_t ldd) {
  Plan* p = find_plan(ab, m, n, k, k, has_bias, alignment, ldd, true);
  return *p;
}

CublasLt::Plan* CublasLt::find_plan(DType ab, int64_t m, int64_t n, int64_t k, int64_t ldb, bool has_bias,
                                    int alignment, int64_t ldd, bool required) {
  Key key{static_cast<int>(ab), m, n, k, ldb, has_bias, alignment, ldd};
  auto it = plans_.find(key);
  if (it != plans_.end() && (it->second || !required)) return it->second.get();
  if (plans_.size() >= kMaxPlans) plans_.clear();
  const Api& api = loaded().api;
  auto p = std::make_unique<Plan>();
  // Column-major view: D^T[n, m] = W[n, k] (stored as k x n, transposed) · x^T (k x m).
  TPS_LT_CHECK(api.desc_create(&p->desc, kComputeF32, CUDA_R_32F));
  int32_t ta = kOpT, tb = kOpN;
  TPS_LT_CHECK(api.desc_set(p->desc, kDescTransA, &ta, sizeof(ta)));
  TPS_LT_CHECK(api.desc_set(p->desc, kDescTransB, &tb, sizeof(tb)));
  uint32_t epilogue = has_bias ? kEpilogueBias : kEpilogueDefault;
  TPS_LT_CHECK(api.desc_set(p->desc, kDescEpilogue, &epilogue, sizeof(epilogue)));
  const cudaDataType_t t = cuda_type(ab);
  TPS_LT_CHECK(api.layout_create(&p->a, t, static_cast<uint64_t>(k), static_cast<uint64_t>(n), ldb));
  TPS_LT_CHECK(api.layout_create(&p->b, t, static_cast<uint64_t>(k), static_cast<uint64_t>(m), k));
  TPS_LT_CHECK(api.layout_create(&p->d, CUDA_R_32F, static_cast<uint64_t>(n), static_cast<uint64_t>(m), ldd));

  LtPref pref = nullptr;
  TPS_LT_CHECK(api.pref_create(&pref));
  uint64_t ws = workspace_bytes_;
  uint32_t align = static_cast<uint32_t>(alignment);
  LtStatus s = api.pref_set(pref, kPrefMaxWorkspace, &ws, sizeof(ws));
  for (int attr : {kPrefMinAlignA, kPrefMinAlignB, kPrefMinAlignC, kPrefMinAlignD})
    if (s == 0) s = api.pref_set(pref, attr, &align, sizeof(align));
  LtHeuristic results[4] = {};
  int returned = 0;
  if (s == 0) s = api.heuristic(handle_, p->desc, p->a, p->b, p->d, p->d, pref, 4, results, &returned);
  api.pref_destroy(pref);
  int best = 0;
  while (best < returned && (results[best].state != 0 || results[best].workspace_size > workspace_bytes_)) best++;
  if (!required && (s != 0 || best >= returned)) {  // remembered: the caller takes another path for this shape
    plans_[key] = nullptr;
    return nullptr;
  }
  TPS_CHECK(s == 0 && returned > 0, "cuBLASLt has no algorithm for ", dtype_name(ab), " GEMM m=", m, " n=", n,
            " k=", k, has_bias ? " with bias" : "", " at ", alignment, "-byte alignment: ", status_name(s));
  TPS_CHECK(best < returned, "cuBLASLt: no usable algorithm for GEMM m=", m, " n=", n, " k=", k);
  p->algo = results[best].algo;
  p->workspace = results[best].workspace_size;
  return (plans_[key] = std::move(p)).get();
}

bool CublasLt::has_gemm_fp8(const void* x, const void* w, int64_t ldw, int64_t m, int64_t n, int64_t k,
                            const float* d, int64_t ldd) {
  if (m <= 0 || n <= 0 || k <= 0 || ldw < k || ldd < n) return false;
  const int alignment = std::min({alignment_of(x), alignment_of(w), alignment_of(d)});
  return find_plan(DType::F8_E4M3, m, n, k, ldw, false, alignment, ldd, false) != nullptr;
}

bool CublasLt::gemm_fp8(const void* x, const float* x_scale, const void* w, int64_t ldw, const float* w_scale,
                        int64_t m, int64_t n, int64_t k, float* d, int64_t ldd, cudaStream_t stream) {
  TPS_CHECK(m > 0 && n > 0 && k > 0 && ldw >= k && ldd >= n, "cuBLASLt FP8 GEMM: bad sizes m=", m, " n=", n,
            " k=", k, " ldw=", ldw, " ldd=", ldd);
  const int alignment = std::min({alignment_of(x), alignment_of(w), alignment_of(d)});
  Plan* p = find_plan(DType::F8_E4M3, m, n, k, ldw, false, alignment, ldd, false);
  if (!p) return false;
  const Api& api = loaded().api;
  // cuBLASLt's A is the weight, its B the activations (see find_plan): their scales go the same way
  TPS_LT_CHECK(api.desc_set(p->desc, kDescAScalePointer, &w_scale, sizeof(w_scale)));
  TPS_LT_CHECK(api.desc_set(p->desc, kDescBScalePointer, &x_scale, sizeof(x_scale)));
  const float alpha = 1.f, beta = 0.f;
  TPS_LT_CHECK(api.matmul(handle_, p->desc, &alpha, w, p->a, x, p->b, &beta, d, p->d, d, p->d, &p->algo, workspace_,
                          p->workspace, stream));
  return true;
}

void CublasLt::gemm(DType ab, const void* a, const void* b, const float* bias, int64_t m, int64_t n, int64_t k,
                    float* d, cudaStream_t stream, int64_t ldd) {
  TPS_CHECK(m > 0 && n > 0 && k > 0, "cuBLASLt GEMM needs positive sizes, got m=", m, " n=", n, " k=", k);
  if (ldd == 0) ldd = n;
  TPS_CHECK(ldd >= n, "cuBLASLt GEMM: row stride ", ldd, " of D is below its ", n, " columns");
  int alignment = std::min({alignment_of(a), alignment_of(b), alignment_of(d)});
  if (bias) alignment = std::min(alignment, alignment_of(bias));
  Plan& p = plan(ab, m, n, k, bias != nullptr, alignment, ldd);
  const Api& api = loaded().api;
  if (bias) TPS_LT_CHECK(api.desc_set(p.desc, kDescBiasPointer, &bias, sizeof(bias)));
  const float alpha = 1.f, beta = 0.f;
  // cuBLASLt's A is the weight (b here), its B the activations (a here): see plan().
  TPS_LT_CHECK(api.matmul(handle_, p.desc, &alpha, b, p.a, a, p.b, &beta, d, p.d, d, p.d, &p.algo, workspace_,
                          p.workspace, stream));
}

void CublasLt::linear(const float* x, const Tensor& weight, const Tensor* bias, int64_t m, float* y,
                      cudaStream_t stream, int64_t ldy) {
  TPS_CHECK(weight.rank() == 2, "linear: weight must be 2-D, got ", weight.shape_string());
  const int64_t n = weight.dim(0), k = weight.dim(1);
  TPS_CHECK(!bias || (bias->dtype() == DType::F32 && bias->numel() == n), "linear: bias must be f32 [", n, "]");
  if (m <= 0) return;
  const float* bias_ptr = bias ? bias->ptr<float>() : nullptr;
  if (weight.dtype() == DType::F32) {
    gemm(DType::F32, x, weight.data(), bias_ptr, m, n, k, y, stream, ldy);
    return;
  }
  ensure_scratch(m * k, stream);
  cast_f32_to_16bit(x, scratch_, m * k, weight.dtype() == DType::BF16, stream);
  gemm(weight.dtype(), scratch_, weight.data(), bias_ptr, m, n, k, y, stream, ldy);
}

}  // namespace tpserve::cuda
