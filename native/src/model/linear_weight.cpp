// LinearWeight formats: quantize-at-load (int8 / int4 / fp8), the reference dequantization, and the
// tensor-parallel row/column slices that keep scales with their rows and groups.
// Tested by tests/linear_weight_test.cpp.
#include "tpserve/linear_weight.h"

#include "tpserve/bf16_weight_tiles.h"
#include "tpserve/linear_weight_tiles.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace tpserve {
namespace {

// The 2-D column block [begin, end) of a CPU tensor, copied.
Tensor copy_columns_2d(const Tensor& t, int64_t begin, int64_t end) {
  const int64_t rows = t.dim(0), cols = t.dim(1);
  Tensor out = Tensor::empty_cpu(t.dtype(), {rows, end - begin});
  const size_t elem = dtype_size(t.dtype());
  const size_t width = static_cast<size_t>(end - begin) * elem;
  for (int64_t r = 0; r < rows; r++)
    std::memcpy(out.ptr<char>() + static_cast<size_t>(r) * width,
                t.ptr<const char>() + (static_cast<size_t>(r * cols) + static_cast<size_t>(begin)) * elem, width);
  return out;
}

Tensor row_view(const Tensor& t, int64_t begin, int64_t count) {
  return t.defined() ? t.rows(begin, begin + count) : t;
}

void quantize_row_int8(const float* w, int64_t k, int8_t* q, float* scale) {
  float amax = 0.f;
  for (int64_t c = 0; c < k; c++) amax = std::max(amax, std::fabs(w[c]));
  const float s = amax > 0.f ? amax / 127.f : 1.f;
  for (int64_t c = 0; c < k; c++)
    q[c] = static_cast<int8_t>(std::clamp(std::nearbyint(w[c] / s), -127.f, 127.f));
  *scale = s;
}

void quantize_row_fp8(const float* w, int64_t k, uint8_t* q, float* scale) {
  float amax = 0.f;
  for (int64_t c = 0; c < k; c++) amax = std::max(amax, std::fabs(w[c]));
  const float s = amax > 0.f ? amax / 448.f : 1.f;
  for (int64_t c = 0; c < k; c++) q[c] = float_to_fp8_e4m3(w[c] / s);
  *scale = s;
}

// The f16 value nearest to s where it is a positive finite one (so the CPU tiles store it in 16
// bits, as GPTQ and AWQ checkpoints do), else s itself (such a weight stays in the f32 row layout).
float int4_scale(float s) {
  const float h = f16_to_float(float_to_f16(s));
  return h > 0.f && std::isfinite(h) ? h : s;
}

void quantize_row_int4(const float* w, int64_t k, int64_t g, uint8_t* q, float* scales, float* zeros) {
  for (int64_t g0 = 0; g0 < k; g0 += g) {
    float lo = 0.f, hi = 0.f;  // the range always holds 0, so zero weights stay exact
    for (int64_t c = g0; c < g0 + g; c++) {
      lo = std::min(lo, w[c]);
      hi = std::max(hi, w[c]);
    }
    const float s = int4_scale(hi > lo ? (hi - lo) / 15.f : 1.f);
    const float z = std::clamp(std::nearbyint(-lo / s), 0.f, 15.f);
    scales[g0 / g] = s;
    zeros[g0 / g] = z;
    for (int64_t c = g0; c < g0 + g; c++) {
      const auto v = static_cast<uint8_t>(std::clamp(std::nearbyint(w[c] / s) + z, 0.f, 15.f));
      q[c / 2] = static_cast<uint8_t>(c % 2 == 0 ? (q[c / 2] & 0xf0) | v : (q[c / 2] & 0x0f) | (v << 4));
    }
  }
}

}  // namespace

const char* weight_format_name(WeightFormat format) {
  switch (format) {
    case WeightFormat::Float: return "float";
    case WeightFormat::Int8: return "int8";
    case WeightFormat::Int4: return "int4";
    case WeightFormat::Fp8: return "fp8";
  }
  return "?";
}

WeightFormat parse_quantization(const std::string& name) {
  if (name == "int8") return WeightFormat::Int8;
  if (name == "int4") return WeightFormat::Int4;
  if (name == "fp8") return WeightFormat::Fp8;
  TPS_THROW("quantization '", name, "' is not one of int8, int4, fp8");
}

size_t LinearWeight::nbytes() const {
  size_t total = 0;
  for (const Tensor* t : {&weight, &scales, &zeros, &perm})
    if (t->defined()) total += t->nbytes();
  return total;
}

LinearWeight quantize_weight(const Tensor& weight, WeightFormat format, int64_t group_size) {
  TPS_CHECK(weight.device().is_cpu() && weight.rank() == 2 && is_float_dtype(weight.dtype()),
            "quantize_weight needs a 2-D float CPU tensor, got ", dtype_name(weight.dtype()), " ", weight.shape_string());
  const int64_t n = weight.dim(0), k = weight.dim(1);
  LinearWeight out;
  out.format = format;
  out.rows = n;
  out.cols = k;
  std::vector<float> row(static_cast<size_t>(k));
  auto read_row = [&](int64_t r) {
    for (int64_t c = 0; c < k; c++) row[c] = load_as_float(weight.data(), weight.dtype(), static_cast<size_t>(r * k + c));
  };
  switch (format) {
    case WeightFormat::Int8:
    case WeightFormat::Fp8:
      out.weight = Tensor::empty_cpu(format == WeightFormat::Int8 ? DType::I8 : DType::F8_E4M3, {n, k});
      out.scales = Tensor::empty_cpu(DType::F32, {n});
      for (int64_t r = 0; r < n; r++) {
        read_row(r);
        if (format == WeightFormat::Int8) quantize_row_int8(row.data(), k, out.weight.ptr<int8_t>() + r * k, out.scales.ptr<float>() + r);
        else quantize_row_fp8(row.data(), k, out.weight.ptr<uint8_t>() + r * k, out.scales.ptr<float>() + r);
      }
      return out;
    case WeightFormat::Int4: {
      TPS_CHECK(group_size > 0 && group_size % 32 == 0, "int4 group size must be a positive multiple of 32, got ",
                group_size);
      TPS_CHECK(k % group_size == 0, "int4 quantization: in_features ", k, " of a ", weight.shape_string(),
                " weight is not a multiple of the group size ", group_size);
      out.group_size = group_size;
      out.weight = Tensor::empty_cpu(DType::U8, {n, k / 2});
      out.scales = Tensor::empty_cpu(DType::F32, {n, k / group_size});
      out.zeros = Tensor::empty_cpu(DType::F32, {n, k / group_size});
      const int64_t ng = k / group_size;
      for (int64_t r = 0; r < n; r++) {
        read_row(r);
        quantize_row_int4(row.data(), k, group_size, out.weight.ptr<uint8_t>() + r * (k / 2),
                          out.scales.ptr<float>() + r * ng, out.zeros.ptr<float>() + r * ng);
      }
      return out;
    }
    case WeightFormat::Float: break;
  }
  TPS_THROW("quantize_weight: no quantization for format ", weight_format_name(format));
}

void dequantize_rows(const LinearWeight& w, int64_t r0, int64_t r1, float* out) {
  const int64_t k = w.in_features();
  TPS_CHECK(r0 >= 0 && r0 <= r1 && r1 <= w.out_features(), "dequantize_rows: rows [", r0, ", ", r1, ") out of range");
  const int32_t* perm = w.perm.defined() ? w.perm.ptr<const int32_t>() : nullptr;
  static const std::vector<float> fp8_table = [] {
    std::vector<float> t(256);
    for (int v = 0; v < 256; v++) t[v] = fp8_e4m3_to_float(static_cast<uint8_t>(v));
    return t;
  }();
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = r0; r < r1; r++) {
    // stored order first; act-order then scatters column c to input perm[c]
    float* o = perm ? row.data() : out + (r - r0) * k;
    if (w.tile_rows != 0 && w.format == WeightFormat::Float) {
      for (int64_t c = 0; c < k; c++) o[c] = bf16_to_float(tiled_bf16(w, r, c));
    } else if (w.tile_rows != 0) {
      for (int64_t c = 0; c < k; c++) {
        const int64_t gi = c / (w.format == WeightFormat::Int4 ? w.group_size : k);
        o[c] = (static_cast<float>(tiled_code(w, r, c)) - tiled_zero(w, r, gi)) * tiled_scale(w, r, gi);
      }
    } else {
      switch (w.format) {
        case WeightFormat::Float:
          for (int64_t c = 0; c < k; c++) o[c] = load_as_float(w.weight.data(), w.weight.dtype(), static_cast<size_t>(r * k + c));
          break;
        case WeightFormat::Int8: {
          const int8_t* q = w.weight.ptr<const int8_t>() + r * k;
          const float s = w.scales.ptr<const float>()[r];
          for (int64_t c = 0; c < k; c++) o[c] = static_cast<float>(q[c]) * s;
          break;
        }
        case WeightFormat::Fp8: {
          const uint8_t* q = w.weight.ptr<const uint8_t>() + r * k;
          const float s = w.scales.ptr<const float>()[r];
          for (int64_t c = 0; c < k; c++) o[c] = fp8_table[q[c]] * s;
          break;
        }
        case WeightFormat::Int4: {
          const uint8_t* q = w.weight.ptr<const uint8_t>() + r * (k / 2);
          const int64_t ng = k / w.group_size;
          const float* s = w.scales.ptr<const float>() + r * ng;
          const float* z = w.zeros.ptr<const float>() + r * ng;
          for (int64_t c = 0; c < k; c += 2) {
            const int64_t g = c / w.group_size;
            o[c] = (static_cast<float>(q[c / 2] & 0xf) - z[g]) * s[g];
            o[c + 1] = (static_cast<float>(q[c / 2] >> 4) - z[g]) * s[g];
          }
          break;
        }
      }
    }
    if (perm)
      for (int64_t c = 0; c < k; c++) out[(r - r0) * k + perm[c]] = row[c];
  }
}

int64_t num_weight_groups(const LinearWeight& w) {
  TPS_CHECK(w.is_quantized(), "num_weight_groups: the weight is not quantized");
  return w.format == WeightFormat::Int4 ? w.in_features() / w.group_size : 1;
}

void quantized_codes(const LinearWeight& w, int64_t r0, int64_t r1, uint8_t* out) {
  const int64_t k = w.in_features();
  TPS_CHECK(w.is_quantized() && w.weight.device().is_cpu(), "quantized_codes: needs a quantized CPU weight");
  TPS_CHECK(r0 >= 0 && r0 <= r1 && r1 <= w.out_features(), "quantized_codes: rows [", r0, ", ", r1, ") out of range");
  if (w.tile_rows != 0) {
    for (int64_t r = r0; r < r1; r++)
      for (int64_t c = 0; c < k; c++) out[(r - r0) * k + c] = static_cast<uint8_t>(tiled_code(w, r, c));
    return;
  }
  const auto* q = w.weight.ptr<const uint8_t>();
  if (w.format != WeightFormat::Int4) {
    std::memcpy(out, q + r0 * k, static_cast<size_t>((r1 - r0) * k));
    return;
  }
  for (int64_t r = r0; r < r1; r++)
    for (int64_t c = 0; c < k; c++) {
      const uint8_t b = q[r * (k / 2) + c / 2];
      out[(r - r0) * k + c] = c % 2 == 0 ? (b & 0xf) : (b >> 4);
    }
}

void quantized_params(const LinearWeight& w, int64_t r0, int64_t r1, float* scales, float* zeros) {
  const int64_t ng = num_weight_groups(w);
  TPS_CHECK(r0 >= 0 && r0 <= r1 && r1 <= w.out_features(), "quantized_params: rows [", r0, ", ", r1, ") out of range");
  const size_t count = static_cast<size_t>((r1 - r0) * ng);
  if (w.tile_rows != 0) {
    for (int64_t r = r0; r < r1; r++)
      for (int64_t gi = 0; gi < ng; gi++) {
        scales[(r - r0) * ng + gi] = tiled_scale(w, r, gi);
        if (zeros) zeros[(r - r0) * ng + gi] = tiled_zero(w, r, gi);
      }
    return;
  }
  std::memcpy(scales, w.scales.ptr<const float>() + r0 * ng, count * sizeof(float));
  if (!zeros) return;
  if (w.format == WeightFormat::Int4) std::memcpy(zeros, w.zeros.ptr<const float>() + r0 * ng, count * sizeof(float));
  else std::fill(zeros, zeros + count, 0.f);
}

Tensor dequantize_weight(const LinearWeight& w) {
  Tensor out = Tensor::empty_cpu(DType::F32, {w.out_features(), w.in_features()});
  dequantize_rows(w, 0, w.out_features(), out.ptr<float>());
  return out;
}

LinearWeight slice_weight_rows(const LinearWeight& w, int64_t begin, int64_t count) {
  TPS_CHECK(begin >= 0 && count >= 0 && begin + count <= w.out_features(), "rows [", begin, ", ", begin + count,
            ") out of range for a weight of ", w.out_features(), " rows");
  TPS_CHECK(w.tile_rows == 0, "a weight already repacked into CPU tiles cannot be sliced again");
  LinearWeight out = w;
  out.weight = row_view(w.weight, begin, count);
  out.scales = row_view(w.scales, begin, count);
  out.zeros = row_view(w.zeros, begin, count);
  if (w.is_quantized()) out.rows = count;
  return out;
}

LinearWeight slice_weight_columns(const LinearWeight& w, int64_t begin, int64_t count) {
  const int64_t k = w.in_features();
  TPS_CHECK(begin >= 0 && count >= 0 && begin + count <= k, "columns [", begin, ", ", begin + count,
            ") out of range for a weight of ", k, " columns");
  if (begin == 0 && count == k) return w;
  TPS_CHECK(w.tile_rows == 0, "a weight already repacked into CPU tiles cannot be sliced again");
  TPS_CHECK(!w.perm.defined(), "a weight with an act-order permutation (GPTQ desc_act) cannot be split by columns "
            "for tensor parallelism");
  LinearWeight out = w;
  switch (w.format) {
    case WeightFormat::Float:
    case WeightFormat::Int8:
    case WeightFormat::Fp8:
      out.weight = copy_columns_2d(w.weight, begin, begin + count);  // per-row scales stay whole
      break;
    case WeightFormat::Int4: {
      const int64_t g = w.group_size;
      TPS_CHECK(begin % g == 0 && count % g == 0, "the tensor-parallel split at columns [", begin, ", ", begin + count,
                ") cuts an int4 group of ", g, " columns: in_features / tp must be a multiple of ", g);
      out.weight = copy_columns_2d(w.weight, begin / 2, (begin + count) / 2);
      out.scales = copy_columns_2d(w.scales, begin / g, (begin + count) / g);
      out.zeros = copy_columns_2d(w.zeros, begin / g, (begin + count) / g);
      break;
    }
  }
  if (w.is_quantized()) out.cols = count;
  return out;
}

}  // namespace tpserve
