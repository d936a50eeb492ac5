// LinearWeight: the weight of one linear layer y = x . W^T in any format the engine computes with.
// A plain float tensor converts to one implicitly, so float code paths read as before.
//   Float: weight [n, k] F32/F16/BF16.
//   Int8:  weight [n, k] I8, symmetric per output channel: W[r, c] = q[r, c] * scales[r]; scales [n] F32.
//   Fp8:   weight [n, k] F8_E4M3:                          W[r, c] = fp8(q[r, c]) * scales[r]; scales [n] F32
//          (a per-tensor scale is stored repeated per row).
//   Int4:  weight [n, k / 2] U8, two values per byte along k (low nibble = even column);
//          groups of group_size columns: W[r, c] = (q[r, c] - zeros[r, g]) * scales[r, g], g = c / group_size;
//          scales, zeros [n, k / group_size] F32.
//   (the CPU backend repacks Int8 / Int4 into 16-row tiles at load: tpserve/linear_weight_tiles.h,
//   and BF16 Float weights: tpserve/bf16_weight_tiles.h)
//   perm:  [k] I32 or undefined: column c of W multiplies x[perm[c]] (GPTQ act-order, columns sorted by group).
#pragma once
#include <string>

#include "tpserve/tensor.h"

namespace tpserve {

enum class WeightFormat : int32_t { Float = 0, Int8 = 1, Int4 = 2, Fp8 = 3 };

const char* weight_format_name(WeightFormat format);

struct LinearWeight {
  LinearWeight() = default;
  LinearWeight(Tensor w) : weight(std::move(w)) {}  // NOLINT: a float tensor is a Float LinearWeight

  WeightFormat format = WeightFormat::Float;
  Tensor weight;
  Tensor scales;
  Tensor zeros;
  Tensor perm;
  int64_t group_size = 0;  // Int4 only
  int64_t rows = 0;        // n (set for quantized formats and tiled BF16; Float reads weight's shape)
  int64_t cols = 0;        // k
  bool per_tensor_scale = false;  // every row has the same scale (set by the CUDA upload: its FP8 GEMM path)
  // 0: the row-major layouts above; 16: the CPU tile layout (linear_weight_tiles.h; BF16 Float:
  // bf16_weight_tiles.h)
  int64_t tile_rows = 0;

  bool defined() const { return weight.defined(); }
  bool is_quantized() const { return format != WeightFormat::Float; }
  int64_t out_features() const { return is_quantized() || tile_rows != 0 ? rows : weight.dim(0); }
  int64_t in_features() const { return is_quantized() || tile_rows != 0 ? cols : weight.dim(1); }
  // Bytes of every tensor it holds (what one decode step streams).
  size_t nbytes() const;
};

// Quantize-at-load methods (`--quantization`): "int8", "int4" or "fp8"; throws naming the value otherwise.
WeightFormat parse_quantization(const std::string& name);

// Quantizes a float [n, k] weight (any float dtype, on the CPU).
//   Int8: scale = max|w| / 127 per row, q = round(w / scale).
//   Int4: per group of group_size columns, asymmetric: scale = (max - min) / 15 rounded to the nearest
//         f16 value (kept in f32 where that is 0 or infinite), zero = round(-min / scale),
//         q = clamp(round(w / scale) + zero, 0, 15). k must be a multiple of group_size, group_size of 32.
//   Fp8:  scale = max|w| / 448 per row, q = e4m3(w / scale).
LinearWeight quantize_weight(const Tensor& weight, WeightFormat format, int64_t group_size = 128);

// The float32 [n, k] weight a LinearWeight stands for (reference math of every kernel).
Tensor dequantize_weight(const LinearWeight& w);
// Rows [r0, r1) dequantized into out ([r1 - r0, k] f32, row-major), natural column order.
void dequantize_rows(const LinearWeight& w, int64_t r0, int64_t r1, float* out);

// The semantic view of a quantized weight, independent of how the host packs it (what the CUDA
// upload converts from; keep these in step with any repacking of the host layout):
//   num_weight_groups: groups per row (Int4: k / group_size; Int8 and Fp8: 1, the whole row).
//   quantized_codes:   rows [r0, r1) as one byte per weight, [r1 - r0, k] in stored column order:
//                      Int8 the two's-complement byte, Fp8 the e4m3 byte, Int4 the code 0..15.
//   quantized_params:  scales and zero points of rows [r0, r1), [r1 - r0, num_weight_groups] f32
//                      (zeros may be nullptr; they are 0 for Int8 and Fp8), so that
//                      W[r, c] = (code - zero[r, g]) * scale[r, g] with the code read as int8, e4m3 or uint4.
int64_t num_weight_groups(const LinearWeight& w);
void quantized_codes(const LinearWeight& w, int64_t r0, int64_t r1, uint8_t* out);
void quantized_params(const LinearWeight& w, int64_t r0, int64_t r1, float* scales, float* zeros);

// Tensor-parallel slices that keep each row's and group's scales with it.
LinearWeight slice_weight_rows(const LinearWeight& w, int64_t begin, int64_t count);
// Columns [begin, begin + count): throws when the cut falls inside an Int4 group or the weight has a perm.
LinearWeight slice_weight_columns(const LinearWeight& w, int64_t begin, int64_t count);

}  // namespace tpserve
