// CudaBackend: the Backend on one NVIDIA GPU. Device memory through cudaMalloc (no managed
// memory), one non-blocking stream that every op, copy and NCCL collective is queued on, weights
// uploaded through pinned staging, `linear` through cuBLASLt (dlopen) with the cuda::linear
// kernel as the fallback (quantized weights: cuda::linear_quantized, by weight format), every
// other op through the kernels/cuda launchers.
// With no CUDA driver or no GPU, make_cuda_backend throws "no CUDA GPU found" (static cudart
// lets the library load anywhere). GPU tests: tests/cuda_backend_test.cpp, scripts/gpu-check.sh.
#include "engine/cuda_backend.h"

#include "model/decoder.h"

#ifdef TPSERVE_WITH_CUDA
#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <sstream>

#include "kernels/cuda/add.cuh"
#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/cublaslt.h"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/embedding.cuh"
#include "engine/cuda_graph_runner.h"
#include "kernels/cuda/linear.cuh"
#include "kernels/cuda/linear_quantized.cuh"
#include "kernels/cuda/rms_norm.cuh"
#include "kernels/cuda/rope.cuh"
#include "kernels/cuda/sample.cuh"
#include "kernels/cuda/scratch.cuh"
#include "kernels/cuda/token_mask.cuh"
#include "kernels/cuda/silu_mul.cuh"
#include "kernels/cuda/stream.cuh"
#include "kernels/cuda/weight_upload.h"
#include "tpserve/backend.h"

namespace tpserve {
namespace {

// Number of visible GPUs, or a clear error (no driver, no device, driver too old for the runtime).
int count_devices() {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" status
    TPS_THROW("no CUDA GPU found (", cudaGetErrorName(e), ": ", cudaGetErrorString(e), ")");
  }
  TPS_CHECK(count > 0, "no CUDA GPU found (the driver reports 0 devices)");
  return count;
}

void warn_once_no_cublaslt() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::fprintf(stderr, "tpserve: warning: %s; linear falls back to the slower built-in CUDA kernel\n",
                 cuda::cublaslt_load_error().c_str());
  });
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int index) : index_(index) {
    const int count = count_devices();
    TPS_CHECK(index >= 0 && index < count, "CUDA device ", index, " out of range: ", count, " GPU(s) visible");
    TPS_CUDA_CHECK(cudaSetDevice(index));
    TPS_CUDA_CHECK(cudaGetDeviceProperties(&props_, index));
    TPS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    bind();
    if (cuda::cublaslt_available()) blas_ = std::make_unique<cuda::CublasLt>();
  }

  ~CudaBackend() override {
    blas_.reset();
    uploader_.reset();
    if (stream_) {
      cudaSetDevice(index_);
      cuda::release_scratch(stream_);
      cudaStreamSynchronize(stream_);
      if (cuda::current_stream() == stream_) cuda::set_current_stream(nullptr);
      cudaStreamDestroy(stream_);
    }
  }

  Device device() const override { return Device{DeviceKind::Cuda, index_}; }

  std::string describe() const override {
    std::ostringstream os;
    os << "cuda:" << index_ << " (" << props_.name << ", " << (props_.totalGlobalMem >> 30) << " GiB, sm_"
       << props_.major << props_.minor << ", "
       << (blas_ ? "cuBLASLt " + cuda::cublaslt_version() : std::string("no cuBLASLt")) << ")";
    return os.str();
  }

  Tensor alloc(DType dtype, std::vector<int64_t> shape) override {
    bind();
    Tensor probe(nullptr, dtype, shape);
    const size_t bytes = std::max<size_t>(probe.nbytes(), 16);
    void* ptr = nullptr;
    cudaError_t e = cudaMalloc(&ptr, bytes);
    if (e != cudaSuccess) {
      cudaGetLastError();
      size_t free = 0, total = 0;
      cudaMemGetInfo(&free, &total);
      TPS_THROW("cuda:", index_, ": cannot allocate ", bytes, " bytes for ", dtype_name(dtype), " ",
                probe.shape_string(), " (", free >> 20, " MiB free of ", total >> 20, "): ", cudaGetErrorString(e));
    }
    TPS_CUDA_CHECK(cudaMemsetAsync(ptr, 0, bytes, stream_));
    std::shared_ptr<void> owner(ptr, [](void* p) { cudaFree(p); });
    return Tensor(ptr, dtype, std::move(shape), device(), std::move(owner));
  }

  Tensor upload(const Tensor& host, DType dtype) override {
    if (!host.defined()) return host;
    bind();
    if (!host.device().is_cpu()) {
      TPS_CHECK(host.dtype() == dtype, "upload: converting a tensor already on cuda:", host.device().index,
                " is not supported (", dtype_name(host.dtype()), " → ", dtype_name(dtype), ")");
      return host;
    }
    Tensor out = alloc(dtype, host.shape());
    if (!uploader_) uploader_ = std::make_unique<cuda::PinnedUploader>();
    // The host bytes are in pinned staging when this returns: the caller may drop the view.
    uploader_->upload(out.data(), dtype, host.data(), host.dtype(), host.numel(), stream_);
    return out;
  }

  LinearWeight upload_quantized(const LinearWeight& host) override {
    bind();
    if (!uploader_) uploader_ = std::make_unique<cuda::PinnedUploader>();
    LinearWeight out = cuda::upload_quantized_weight(
        host, *uploader_, [this](DType dtype, std::vector<int64_t> shape) { return alloc(dtype, std::move(shape)); },
        stream_);
    cuda::reserve_linear_quantized(out);  // before any graph capture: the prefill scratch never moves after load
    return out;
  }

  void copy_to_device(void* dst, const void* src, size_t bytes) override {
    if (bytes == 0) return;
    bind();
    // From pageable memory this returns once the source is staged: the caller may reuse it.
    TPS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_));
  }

  void copy_to_host(void* dst, const void* src, size_t bytes) override {
    if (bytes == 0) return;
    bind();
    TPS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
    TPS_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void copy_2d(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width, size_t rows) override {
    if (width == 0 || rows == 0) return;
    bind();
    TPS_CUDA_CHECK(cudaMemcpy2DAsync(dst, dst_pitch, src, src_pitch, width, rows, cudaMemcpyDeviceToDevice, stream_));
  }

  void synchronize() override {
    bind();
    TPS_CUDA_CHECK(cudaStreamSynchronize(stream_));
    uploader_.reset();  // loading is over once the first forward syncs: free the pinned staging
  }

  size_t free_memory_bytes() const override {
    bind();
    size_t free = 0, total = 0;
    TPS_CUDA_CHECK(cudaMemGetInfo(&free, &total));
    return free;
  }

  void reserve_scratch(int64_t max_rows, int64_t max_in_features, int64_t head_dim) override {
    bind();
    if (blas_) blas_->reserve_scratch(max_rows * max_in_features);
    cuda::reserve_attention_scratch(head_dim);
  }

  uint64_t scratch_generation() const override {
    bind();
    return cuda::scratch_generation(stream_) + (blas_ ? blas_->scratch_generation() : 0);
  }

  void embedding(const Tensor& table, const int32_t* ids, int64_t n, int64_t vocab_begin, float* out) override {
    bind();
    cuda::embedding(table, ids, n, vocab_begin, out);
  }
  void rms_norm(const float* x, const Tensor& w, float eps, int64_t rows, int64_t dim, float* out) override {
    bind();
    cuda::rms_norm(x, w, eps, rows, dim, out);
  }
  void linear(const float* x, const LinearWeight& lw, const Tensor* bias, int64_t m, float* y) override {
    bind();
    if (lw.is_quantized()) {
      cuda::linear_quantized(x, lw, bias, m, y, blas_.get());
      return;
    }
    const Tensor& w = lw.weight;
    if (blas_) {
      blas_->linear(x, w, bias, m, y, stream_);
      return;
    }
    warn_once_no_cublaslt();
    cuda::linear(x, w, bias, m, y);
  }
  void add_rms_norm(float* residual, const float* x, const Tensor& w, float eps, int64_t rows, int64_t dim,
                    float* out) override {
    bind();
    cuda::add_rms_norm(residual, x, w, eps, rows, dim, out);
  }
  void rope_kv_write(float* q, float* k, const float* v, const float* cos, const float* sin, const int32_t* positions,
                     const int32_t* slots, int64_t n, int64_t nq, const KvLayout& layout, void* kc, void* vc,
                     DType dt) override {
    bind();
    cuda::rope_kv_write(q, k, v, cos, sin, positions, slots, n, nq, layout, kc, vc, dt);
  }
  void paged_attention(const float* q, const void* kc, const void* vc, DType dt, const AttentionBatch& batch,
                       const KvLayout& layout, int64_t nq, float scale, float* out) override {
    bind();
    cuda::paged_attention(q, kc, vc, dt, batch, layout, nq, scale, out);  // reads batch.max_query_len
  }
  void silu_mul(const float* g, const float* u, int64_t n, float* out) override {
    bind();
    cuda::silu_mul(g, u, n, out);
  }
  void add(const float* a, const float* b, int64_t n, float* out) override {
    bind();
    cuda::add(a, b, n, out);
  }
  void add_bias(float* y, const Tensor& bias, int64_t rows) override {
    bind();
    cuda::add_bias(y, bias, rows);
  }
  void sample(const float* logits, const SamplerBatch& batch, SampleResult* out) override {
    bind();
    cuda::sample(logits, batch, out);
  }
  void apply_token_mask(float* logits, int64_t vocab_size, const int32_t* rows, const uint32_t* masks,
                        int64_t num_masked, int64_t words_per_row) override {
    bind();
    cuda::apply_token_mask(logits, vocab_size, rows, masks, num_masked, words_per_row);
  }

  cuda::CublasLt* cublaslt() { return blas_.get(); }
  cudaStream_t bound_stream() const {
    bind();
    return stream_;
  }

 private:
  // The engine may run on a different thread at each step (Node's worker pool): make this
  // device and stream current on the calling thread (cheap when they already are).
  void bind() const {
    thread_local uint64_t bound = 0;  // serial of the backend last bound on this thread
    if (bound == serial_ && cuda::current_stream() == stream_) return;
    TPS_CUDA_CHECK(cudaSetDevice(index_));
    cuda::set_current_stream(stream_);
    bound = serial_;
  }

  static uint64_t next_serial() {
    static std::atomic<uint64_t> counter{0};
    return ++counter;
  }

  const uint64_t serial_ = next_serial();
  int index_;
  cudaDeviceProp props_{};
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<cuda::CublasLt> blas_;
  std::unique_ptr<cuda::PinnedUploader> uploader_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device_index) { return std::make_unique<CudaBackend>(device_index); }
bool cuda_compiled() { return true; }

std::unique_ptr<DecodeRunner> make_decode_runner(Backend& backend, int64_t max_batch) {
  if (!dynamic_cast<CudaBackend*>(&backend)) return nullptr;
  return cuda::make_decode_graph_runner(max_batch);
}

namespace cuda {
cudaStream_t backend_stream(Backend& backend) {
  auto* b = dynamic_cast<CudaBackend*>(&backend);
  TPS_CHECK(b, "backend_stream: not a CUDA backend (", backend.describe(), ")");
  return b->bound_stream();
}
CublasLt* backend_cublaslt(Backend& backend) {
  auto* b = dynamic_cast<CudaBackend*>(&backend);
  return b ? b->cublaslt() : nullptr;
}
}  // namespace cuda

}  // namespace tpserve
#else  // !TPSERVE_WITH_CUDA
namespace tpserve {
std::unique_ptr<DecodeRunner> make_decode_runner(Backend&, int64_t) { return nullptr; }
}  // namespace tpserve
#endif  // TPSERVE_WITH_CUDA
