// The CUDA quantized linear: shape checks and the choice between the decode GEMV and the
// dequantize-to-bf16 + cuBLASLt GEMM (see linear_quantized.cuh).
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels/cuda/add.cuh"
#include "kernels/cuda/cublaslt.h"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/dequantize_weight.cuh"
#include "kernels/cuda/fp8_quantize.cuh"
#include "kernels/cuda/linear_quantized.cuh"
#include "kernels/cuda/quantized_gemv.cuh"
#include "kernels/cuda/scratch.cuh"
#include "kernels/cuda/stream.cuh"
#include "kernels/cuda/weight_upload.h"

namespace tpserve::cuda {
namespace {

// bf16 elements of the dequantization scratch (128 MiB): a 27648 x 5120 MLP weight of Seed-OSS
// goes through it in 3 chunks.
constexpr int64_t kDequantChunkElements = int64_t{64} << 20;
constexpr int64_t kChunkRowMultiple = 128;

int64_t chunk_rows(const LinearWeight& w, int64_t chunk_elements) {
  const int64_t n = w.out_features(), k = std::max<int64_t>(1, w.in_features());
  const int64_t budget = chunk_elements > 0 ? chunk_elements : kDequantChunkElements;
  const int64_t rows = std::max(kChunkRowMultiple, budget / k / kChunkRowMultiple * kChunkRowMultiple);
  return std::min(n, rows);
}

size_t scratch_bytes(const LinearWeight& w, int64_t chunk_elements = 0) {
  return static_cast<size_t>(chunk_rows(w, chunk_elements) * w.in_features()) * 2;
}

void check_weight(const LinearWeight& w) {
  const int64_t n = w.out_features(), k = w.in_features();
  TPS_CHECK(w.is_quantized(), "linear_quantized: the weight is not quantized");
  TPS_CHECK(!w.weight.device().is_cpu() && w.scales.defined() && !w.scales.device().is_cpu(),
            "linear_quantized: ", weight_format_name(w.format), " weight or scales not on the GPU");
  TPS_CHECK(w.weight.numel() == n * quantized_row_bytes(w), "linear_quantized: ", weight_format_name(w.format),
            " weight ", w.weight.shape_string(), " is not in the device layout of [", n, ", ", k,
            "] (upload it with upload_quantized_weight)");
  if (w.format == WeightFormat::Int4)
    TPS_CHECK(w.group_size > 0 && w.group_size % 32 == 0 && k % w.group_size == 0 && w.zeros.defined() &&
                  w.scales.numel() == n * (k / w.group_size) && w.zeros.numel() == w.scales.numel(),
              "linear_quantized: malformed int4 weight (group ", w.group_size, ")");
  else
    TPS_CHECK(w.scales.numel() == n, "linear_quantized: ", weight_format_name(w.format), " needs ", n, " scales");
  if (w.perm.defined()) TPS_CHECK(w.perm.numel() == k, "linear_quantized: perm must be [", k, "]");
}

void gemv_slices(const float* x, const LinearWeight& w, const float* bias, int64_t m, float* y) {
  const int64_t n = w.out_features(), k = w.in_features();
  for (int64_t i = 0; i < m; i += kQuantGemvMaxRows)
    quantized_gemv(x + i * k, w, bias, std::min(kQuantGemvMaxRows, m - i), y + i * n);
}

// FP8 GEMM of a per-tensor FP8 weight on sm_89+ (TPSERVE_CUDA_FP8_GEMM=0 turns it off): x quantized
// to e4m3 with one dynamic scale, then cuBLASLt's FP8 GEMM. False (nothing queued) when it does not apply.
bool fp8_gemm(const float* x, const LinearWeight& w, int64_t m, float* y, CublasLt* blas) {
  const int64_t n = w.out_features(), k = w.in_features();
  if (w.format != WeightFormat::Fp8 || !w.per_tensor_scale || !blas || k % 16 != 0 || n % 16 != 0) return false;
  const char* env = std::getenv("TPSERVE_CUDA_FP8_GEMM");
  if (env && std::strcmp(env, "0") == 0) return false;
  int dev = 0, major = 0, minor = 0;
  TPS_CUDA_CHECK(cudaGetDevice(&dev));
  TPS_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  TPS_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  if (major * 10 + minor < 89) return false;
  const size_t x_bytes = (static_cast<size_t>(m * k) + 255) / 256 * 256;
  auto* xq = static_cast<char*>(scratch_device(ScratchSlot::Fp8Activations, x_bytes + 2 * sizeof(float)));
  if (!xq || !blas->has_gemm_fp8(xq, w.weight.data(), quantized_row_bytes(w), m, n, k, y, n)) return false;
  auto* amax_scale = reinterpret_cast<float*>(xq + x_bytes);
  quantize_fp8_per_tensor(x, m * k, xq, amax_scale);
  return blas->gemm_fp8(xq, amax_scale + 1, w.weight.data(), quantized_row_bytes(w), w.scales.ptr<const float>(), m,
                        n, k, y, n, current_stream());
}

}  // namespace

void reserve_linear_quantized(const LinearWeight& w) {
  if (w.is_quantized() && w.out_features() > 0 && w.in_features() > 0)
    TPS_CHECK(scratch_device(ScratchSlot::DequantWeight, scratch_bytes(w)),
              "linear_quantized: the dequantization scratch cannot grow during CUDA-graph capture");
}

void linear_quantized(const float* x, const LinearWeight& w, const Tensor* bias, int64_t m, float* y, CublasLt* blas,
                      int64_t chunk_elements) {
  check_weight(w);
  const int64_t n = w.out_features(), k = w.in_features();
  const bool has_bias = bias && bias->defined();
  if (has_bias)
    TPS_CHECK(bias->numel() == n && !bias->device().is_cpu(), "linear_quantized: bias ", bias->shape_string(),
              " is not a device tensor of ", n, " outputs");
  TPS_CHECK(m >= 0, "linear_quantized: negative row count ", m);
  if (m == 0 || n == 0) return;
  TPS_CHECK(x && y && x != y, "linear_quantized: null or aliased x / y");
  // an f32 bias is fused; any other dtype is added by add_bias at the end
  const bool fused = has_bias && bias->dtype() == DType::F32;
  const float* b = fused ? bias->ptr<const float>() : nullptr;
  if (m >= kQuantGemmMinRows && fp8_gemm(x, w, m, y, blas)) {
    if (has_bias) add_bias(y, *bias, m);  // cuBLASLt's FP8 bias epilogue takes bf16 only: added after
    return;
  }
  void* scratch = nullptr;
  if (m >= kQuantGemmMinRows && blas) scratch = scratch_device(ScratchSlot::DequantWeight, scratch_bytes(w, chunk_elements));
  if (!scratch) {
    gemv_slices(x, w, b, m, y);
  } else {
    const int64_t step = chunk_rows(w, chunk_elements);
    for (int64_t r0 = 0; r0 < n; r0 += step) {
      const int64_t rows = std::min(step, n - r0);
      dequantize_weight_bf16(w, r0, rows, scratch);
      const Tensor panel(scratch, DType::BF16, {rows, k}, w.weight.device());
      const Tensor bias_rows = fused ? Tensor(const_cast<float*>(b) + r0, DType::F32, {rows}, w.weight.device()) : Tensor();
      blas->linear(x, panel, fused ? &bias_rows : nullptr, m, y + r0, current_stream(), n);
    }
  }
  if (has_bias && !fused) add_bias(y, *bias, m);
}

}  // namespace tpserve::cuda
