// Quantized weight -> bf16 rows (see dequantize_weight.cuh): one thread per 32-bit word of codes
// (8 int4 or 4 int8 / fp8 columns) in a grid-stride loop, 8- or 16-byte stores of the bf16 values
// when the columns are in natural order.
#include <cuda_bf16.h>

#include "kernels/cuda/dequantize_weight.cuh"
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/quantized_codes.cuh"
#include "kernels/cuda/stream.cuh"
#include "kernels/cuda/weight_upload.h"

namespace tpserve::cuda {
namespace {

constexpr int kThreads = 256;

template <WeightFormat F, bool kPerm>
__global__ void __launch_bounds__(kThreads)
    dequantize_kernel(const uint8_t* __restrict__ w, int64_t ld, const float* __restrict__ scales,
                      const float* __restrict__ zeros, int64_t ng, int64_t group, const int32_t* __restrict__ perm,
                      int64_t r0, int64_t rows, int64_t k, bool vec_out, __nv_bfloat16* __restrict__ out) {
  constexpr int P = kCodesPerWord<F>;
  constexpr bool kInt4 = F == WeightFormat::Int4;
  const int64_t words = ceil_div(k, P);
  for (int64_t item = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; item < rows * words;
       item += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = item / words, c = (item % words) * P, row = r0 + r;
    const uint32_t word = __ldg(reinterpret_cast<const uint32_t*>(w + row * ld + (kInt4 ? c / 2 : c)));
    float v[8];
    decode_word<F>(word, v);
    const int64_t g = kInt4 ? row * ng + c / group : row;
    const float s = scales[g];
    if constexpr (kInt4) {
      const float z = zeros[g];
#pragma unroll
      for (int j = 0; j < P; j++) v[j] = (v[j] - z) * s;
    } else {
#pragma unroll
      for (int j = 0; j < P; j++) v[j] = v[j] * s;
    }
    __nv_bfloat16* o = out + r * k;
    if (!kPerm && vec_out && c + P <= k) {
      __align__(16) __nv_bfloat16 packed[P];
#pragma unroll
      for (int j = 0; j < P; j++) packed[j] = __float2bfloat16_rn(v[j]);
      if constexpr (P == 8) *reinterpret_cast<uint4*>(o + c) = *reinterpret_cast<const uint4*>(packed);
      else *reinterpret_cast<uint2*>(o + c) = *reinterpret_cast<const uint2*>(packed);
    } else {
#pragma unroll
      for (int j = 0; j < P; j++)
        if (c + j < k) o[kPerm ? perm[c + j] : c + j] = __float2bfloat16_rn(v[j]);
    }
  }
}

template <WeightFormat F>
void launch(const LinearWeight& w, int64_t r0, int64_t rows, void* out) {
  constexpr int P = kCodesPerWord<F>;
  const int64_t k = w.in_features();
  const int64_t ng = num_weight_groups(w), group = F == WeightFormat::Int4 ? w.group_size : k;
  const bool vec_out = k % P == 0 && is_aligned(out, 16);
  const unsigned blocks = grid_for(rows * ceil_div(k, P), kThreads);
  const uint8_t* q = w.weight.ptr<const uint8_t>();
  const float* s = w.scales.ptr<const float>();
  const float* z = F == WeightFormat::Int4 ? w.zeros.ptr<const float>() : nullptr;
  auto* o = static_cast<__nv_bfloat16*>(out);
  const int64_t ld = quantized_row_bytes(w);
  cudaStream_t stream = current_stream();
  if (w.perm.defined())
    dequantize_kernel<F, true><<<blocks, kThreads, 0, stream>>>(q, ld, s, z, ng, group, w.perm.ptr<const int32_t>(),
                                                                r0, rows, k, vec_out, o);
  else
    dequantize_kernel<F, false><<<blocks, kThreads, 0, stream>>>(q, ld, s, z, ng, group, nullptr, r0, rows, k,
                                                                 vec_out, o);
}

}  // namespace

void dequantize_weight_bf16(const LinearWeight& w, int64_t r0, int64_t rows, void* out) {
  TPS_CHECK(!w.weight.device().is_cpu(), "dequantize_weight_bf16: the weight is not on the GPU");
  TPS_CHECK(r0 >= 0 && rows >= 0 && r0 + rows <= w.out_features(), "dequantize_weight_bf16: rows [", r0, ", ",
            r0 + rows, ") out of range for ", w.out_features());
  if (rows == 0 || w.in_features() == 0) return;
  switch (w.format) {
    case WeightFormat::Int8: launch<WeightFormat::Int8>(w, r0, rows, out); break;
    case WeightFormat::Int4: launch<WeightFormat::Int4>(w, r0, rows, out); break;
    case WeightFormat::Fp8: launch<WeightFormat::Fp8>(w, r0, rows, out); break;
    case WeightFormat::Float: TPS_THROW("dequantize_weight_bf16: the weight is not quantized");
  }
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace tpserve::cuda
