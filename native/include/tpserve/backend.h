// Backend: the op table and memory of one device. The model is written once against this
// interface; the CPU backend calls the kernels in src/kernels/cpu/, the CUDA backend their twins
// in src/kernels/cuda/ (same signatures, device pointers). Every pointer an op takes lives on
// the backend's device, including the int32 metadata arrays.
#pragma once
#include <memory>
#include <vector>

#include "tpserve/attention_batch.h"
#include "tpserve/linear_weight.h"
#include "tpserve/sampling.h"
#include "tpserve/tensor.h"

namespace tpserve {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual std::string describe() const = 0;  // e.g. "cpu (avx512, 2 threads)"

  // Memory. alloc returns zero-filled device memory owned by the tensor.
  virtual Tensor alloc(DType dtype, std::vector<int64_t> shape) = 0;
  // Moves a host tensor (usually an mmapped weight view) to the device, converting to `dtype`
  // when it differs. The CPU backend copies it into memory of its own (huge pages) all the same.
  virtual Tensor upload(const Tensor& host, DType dtype) = 0;
  // Moves a float linear weight to the device as `dtype`, in the layout this backend's linear()
  // reads fastest (default: upload(); CPU: BF16 in the 16-row tiles of bf16_weight_tiles.h).
  virtual LinearWeight upload_float_linear(const Tensor& host, DType dtype) { return upload(host, dtype); }
  // Moves a quantized host weight to the device in the layout this backend's linear() reads
  // (default: every tensor as it is; CUDA: the device layout of kernels/cuda/weight_upload.h).
  virtual LinearWeight upload_quantized(const LinearWeight& host) {
    LinearWeight out = host;
    for (Tensor* t : {&out.weight, &out.scales, &out.zeros, &out.perm})
      if (t->defined()) *t = upload(*t, t->dtype());
    return out;
  }
  virtual void copy_to_device(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void copy_to_host(void* host_dst, const void* src, size_t bytes) = 0;
  // 2-D copy within the device: rows of width_bytes from src (src_pitch apart) to dst (dst_pitch apart).
  virtual void copy_2d(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width_bytes,
                       size_t rows) = 0;
  virtual void synchronize() = 0;
  // Bytes of device memory free for the KV cache (CPU: physical memory available).
  virtual size_t free_memory_bytes() const = 0;
  // Sizes the scratch the ops keep between calls (CUDA: cuBLASLt's 16-bit copy of x, the split-K
  // partials of decode attention) for linear inputs up to [max_rows, max_in_features] and
  // attention heads of head_dim, so no later op of that size reallocates it: a captured CUDA
  // graph holds its addresses. scratch_generation() changes whenever that scratch is reallocated.
  virtual void reserve_scratch(int64_t max_rows, int64_t max_in_features, int64_t head_dim) {}
  virtual uint64_t scratch_generation() const { return 0; }

  // Ops: see src/kernels/cpu/<op>.h for the contract of each.
  virtual void embedding(const Tensor& table, const int32_t* ids, int64_t num_tokens, int64_t vocab_begin,
                         float* out) = 0;
  virtual void rms_norm(const float* x, const Tensor& weight, float eps, int64_t num_rows, int64_t dim,
                        float* out) = 0;
  // Any weight format (float or quantized, see linear_weight.h); a backend without kernels for a
  // format throws naming it.
  virtual void linear(const float* x, const LinearWeight& weight, const Tensor* bias, int64_t m, float* y) = 0;
  // residual += x, then normed_out = rms_norm(residual) (kernels/cpu/rms_norm.h).
  virtual void add_rms_norm(float* residual, const float* x, const Tensor& weight, float eps, int64_t num_rows,
                            int64_t dim, float* normed_out) = 0;
  // rope(q), rope(k) at each token's position from the cos/sin tables, then kv_write(k, v)
  // (kernels/cpu/rope.h).
  virtual void rope_kv_write(float* q, float* k, const float* v, const float* cos_table, const float* sin_table,
                             const int32_t* positions, const int32_t* slots, int64_t num_tokens, int64_t num_q_heads,
                             const KvLayout& layout, void* k_cache, void* v_cache, DType cache_dtype) = 0;
  virtual void paged_attention(const float* q, const void* k_cache, const void* v_cache, DType cache_dtype,
                               const AttentionBatch& batch, const KvLayout& layout, int64_t num_q_heads,
                               float scale, float* out) = 0;
  virtual void silu_mul(const float* gate, const float* up, int64_t n, float* out) = 0;
  virtual void add(const float* a, const float* b, int64_t n, float* out) = 0;
  virtual void add_bias(float* y, const Tensor& bias, int64_t num_rows) = 0;
  // logits on the device; batch arrays and results on the host.
  virtual void sample(const float* logits, const SamplerBatch& batch, SampleResult* out) = 0;
  // Structured outputs: -inf at the ids each masked row's bitmask does not allow (before sample).
  // logits on the device; rows [num_masked] and masks [num_masked, words_per_row] on the host.
  virtual void apply_token_mask(float* logits, int64_t vocab_size, const int32_t* rows, const uint32_t* masks,
                                int64_t num_masked, int64_t words_per_row) = 0;
};

// num_threads <= 0: all cores. batch_invariant: linear layers and attention compute each token's
// row exactly as they would with that token alone in the step (EngineOptions::batch_invariant).
std::unique_ptr<Backend> make_cpu_backend(int num_threads, bool batch_invariant = false);
// Throws a clear tpserve::Error when the build has no CUDA or no GPU is found.
std::unique_ptr<Backend> make_cuda_backend(int device_index);
bool cuda_compiled();

}  // namespace tpserve
