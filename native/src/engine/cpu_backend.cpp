// CpuBackend: the Backend on host memory, calling the CPU kernels directly.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "kernels/cpu/add.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/linear_quantized.h"
#include "kernels/cpu/rms_norm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/sample.h"
#include "kernels/cpu/token_mask.h"
#include "kernels/cpu/silu_mul.h"
#include "tpserve/backend.h"
#include "tpserve/bf16_weight_tiles.h"
#include "tpserve/commit_pages.h"
#include "tpserve/host_arena.h"
#include "tpserve/thread_pool.h"

namespace tpserve {
namespace {

class CpuBackend final : public Backend {
 public:
  // Each CPU engine has its own pool, bound to whichever thread runs an op.
  CpuBackend(int num_threads, bool batch_invariant) : pool_(num_threads), batch_invariant_(batch_invariant) {
    num_threads_ = pool_.num_threads();
  }

  Device device() const override { return Device{}; }
  std::string describe() const override {
    std::ostringstream os;
    os << "cpu (" << cpu::linear_isa() << ", " << num_threads_ << " threads" << (batch_invariant_ ? ", batch-invariant" : "") << ")";
    return os.str();
  }

  // Committed now, as cudaMalloc's memory is (tpserve/commit_pages.h): no page faults in later steps.
  Tensor alloc(DType dtype, std::vector<int64_t> shape) override {
    Tensor t = Tensor::empty_cpu(dtype, std::move(shape));
    commit_pages(t.data(), t.nbytes(), pool_);
    return t;
  }

  // Weights land in the backend's huge-page arena (tpserve/host_arena.h), back to back.
  Tensor upload(const Tensor& host, DType dtype) override {
    HostArenaScope in(&weights_);
    return copy_or_convert(host, dtype);
  }

  // BF16 linear weights in the 16-row tiles of the decode GEMV (TPSERVE_CPU_BF16_TILES=0: row-major,
  // for A/B measurements): measured in docs/benchmarks.md.
  LinearWeight upload_float_linear(const Tensor& host, DType dtype) override {
    const char* env = std::getenv("TPSERVE_CPU_BF16_TILES");
    const bool tiles = dtype == DType::BF16 && !(env && std::string(env) == "0");
    if (!tiles) return upload(host, dtype);
    const Tensor bf16 = host.dtype() == dtype ? host : copy_or_convert(host, dtype);  // a temporary: not in the arena
    HostArenaScope in(&weights_);
    return tile_bf16_weight(bf16);
  }

  // Int8 / Int4 repacked into the tiles of the VNNI decode kernels where they apply.
  LinearWeight upload_quantized(const LinearWeight& host) override {
    LinearWeight out;
    {
      HostArenaScope in(&weights_);
      out = cpu::cpu_weight_layout(host);  // new tensors when it repacks into tiles
    }
    if (out.weight.data() != host.weight.data()) return out;
    // kept as it is (fp8, int4 groups under 128, no VNNI): its tensors copied into the arena
    for (Tensor* t : {&out.weight, &out.scales, &out.zeros, &out.perm})
      if (t->defined()) *t = upload(*t, t->dtype());
    return out;
  }

  void copy_to_device(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void copy_to_host(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void copy_2d(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width, size_t rows) override {
    for (size_t r = 0; r < rows; r++)
      std::memcpy(static_cast<char*>(dst) + r * dst_pitch, static_cast<const char*>(src) + r * src_pitch, width);
  }
  void synchronize() override {}
  size_t free_memory_bytes() const override {
    long pages = sysconf(_SC_AVPHYS_PAGES);
    long page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : 0;
  }

  void embedding(const Tensor& table, const int32_t* ids, int64_t n, int64_t vocab_begin, float* out) override {
    PoolScope scope(pool_);
    cpu::embedding(table, ids, n, vocab_begin, out);
  }
  void rms_norm(const float* x, const Tensor& w, float eps, int64_t rows, int64_t dim, float* out) override {
    PoolScope scope(pool_);
    cpu::rms_norm(x, w, eps, rows, dim, out);
  }
  void linear(const float* x, const LinearWeight& w, const Tensor* bias, int64_t m, float* y) override {
    PoolScope scope(pool_);
    cpu::linear_any(x, w, bias, m, y, batch_invariant_);
  }
  void add_rms_norm(float* residual, const float* x, const Tensor& w, float eps, int64_t rows, int64_t dim,
                    float* out) override {
    PoolScope scope(pool_);
    cpu::add_rms_norm(residual, x, w, eps, rows, dim, out);
  }
  void rope_kv_write(float* q, float* k, const float* v, const float* cos, const float* sin, const int32_t* positions,
                     const int32_t* slots, int64_t n, int64_t nq, const KvLayout& layout, void* kc, void* vc,
                     DType dt) override {
    PoolScope scope(pool_);
    cpu::rope_kv_write(q, k, v, cos, sin, positions, slots, n, nq, layout, kc, vc, dt);
  }
  void paged_attention(const float* q, const void* kc, const void* vc, DType dt, const AttentionBatch& batch,
                       const KvLayout& layout, int64_t nq, float scale, float* out) override {
    PoolScope scope(pool_);
    cpu::paged_attention(q, kc, vc, dt, batch, layout, nq, scale, out, batch_invariant_);
  }
  void silu_mul(const float* g, const float* u, int64_t n, float* out) override { PoolScope scope(pool_); cpu::silu_mul(g, u, n, out); }
  void add(const float* a, const float* b, int64_t n, float* out) override { PoolScope scope(pool_); cpu::add(a, b, n, out); }
  void add_bias(float* y, const Tensor& bias, int64_t rows) override { PoolScope scope(pool_); cpu::add_bias(y, bias, rows); }
  void sample(const float* logits, const SamplerBatch& batch, SampleResult* out) override {
    PoolScope scope(pool_);
    cpu::sample(logits, batch, out);
  }
  void apply_token_mask(float* logits, int64_t vocab_size, const int32_t* rows, const uint32_t* masks,
                        int64_t num_masked, int64_t words_per_row) override {
    cpu::apply_token_mask(logits, vocab_size, rows, masks, num_masked, words_per_row);
  }

 private:
  // host as `dtype`, in a tensor of its own (the arena's when a HostArenaScope is open). Copied
  // even when the dtype matches: the host tensor may be a view of the safetensors mmap, whose
  // 4 KiB page-cache pages cost decode a TLB miss every 4 KiB of weight it streams. The file's
  // pages stay reclaimable cache.
  static Tensor copy_or_convert(const Tensor& host, DType dtype) {
    Tensor out = Tensor::empty_cpu(dtype, host.shape());
    if (host.dtype() == dtype) {
      std::memcpy(out.data(), host.data(), static_cast<size_t>(host.numel()) * dtype_size(dtype));
      return out;
    }
    TPS_CHECK(is_float_dtype(host.dtype()) && is_float_dtype(dtype), "upload: cannot convert ", dtype_name(host.dtype()),
              " to ", dtype_name(dtype));
    const int64_t n = host.numel();
    for (int64_t i = 0; i < n; i++) {
      const float v = load_as_float(host.data(), host.dtype(), static_cast<size_t>(i));
      switch (dtype) {
        case DType::F32: out.ptr<float>()[i] = v; break;
        case DType::BF16: out.ptr<uint16_t>()[i] = float_to_bf16(v); break;
        case DType::F16: out.ptr<uint16_t>()[i] = float_to_f16(v); break;
        default: break;  // excluded by the check above
      }
    }
    return out;
  }

  // Binds the engine's pool to the calling thread for one op, then restores the previous one.
  struct PoolScope {
    explicit PoolScope(ThreadPool& pool) : previous(bind_thread_pool(&pool)) {}
    ~PoolScope() { bind_thread_pool(previous); }
    ThreadPool* previous;
  };

  ThreadPool pool_;
  HostArena weights_;  // every uploaded weight
  const bool batch_invariant_;
  int num_threads_ = 1;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int num_threads, bool batch_invariant) {
  return std::make_unique<CpuBackend>(num_threads, batch_invariant);
}

#ifndef TPSERVE_WITH_CUDA
std::unique_ptr<Backend> make_cuda_backend(int) {
  TPS_THROW("this build of tpserve has no CUDA support (nvcc was not found when it was compiled)");
}
bool cuda_compiled() { return false; }
#endif

}  // namespace tpserve
