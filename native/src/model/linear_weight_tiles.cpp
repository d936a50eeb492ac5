// Repacking of Int8 / Int4 LinearWeights into the CPU tile layout and its element accessors (see
// tpserve/linear_weight_tiles.h).
#include "tpserve/linear_weight_tiles.h"

#include <cstring>

#include "tpserve/dtype.h"
#include "tpserve/error.h"

namespace tpserve {
namespace {

constexpr int64_t kTileBlock = 128;  // int8 rows padded to the activation block of the VNNI kernels

int64_t padded_k(int64_t k) { return (k + kTileBlock - 1) / kTileBlock * kTileBlock; }
int64_t tile_count(int64_t n) { return (n + kWeightTileRows - 1) / kWeightTileRows; }

// Byte offset of column c's byte of row r (Int8), or of its nibble's byte (Int4; *high: which nibble).
size_t code_offset(const LinearWeight& w, int64_t r, int64_t c, bool* high) {
  const int64_t t = r / kWeightTileRows, j = r % kWeightTileRows;
  const size_t tile_bytes = static_cast<size_t>(kWeightTileRows * tiled_row_bytes(w));
  if (w.format == WeightFormat::Int8)
    return static_cast<size_t>(t) * tile_bytes + static_cast<size_t>(((c / 4) * kWeightTileRows + j) * 4 + c % 4);
  const int64_t c8 = c / 8, i = c % 8;
  *high = i >= 4;
  return static_cast<size_t>(t) * tile_bytes + static_cast<size_t>((c8 * kWeightTileRows + j) * 4 + i % 4);
}

size_t param_index(const LinearWeight& w, int64_t r, int64_t gi) {
  const int64_t ng = num_weight_groups(w);
  return static_cast<size_t>(((r / kWeightTileRows) * ng + gi) * kWeightTileRows + r % kWeightTileRows);
}

void check_tiled(const LinearWeight& w) {
  TPS_CHECK(w.tile_rows == kWeightTileRows, "linear weight is not in the CPU tile layout");
}

// Every value of an F32 tensor is an f16 value.
bool all_f16_values(const Tensor& t) {
  const float* v = t.ptr<const float>();
  for (int64_t i = 0; i < t.numel(); i++)
    if (f16_to_float(float_to_f16(v[i])) != v[i]) return false;
  return true;
}

}  // namespace

bool can_tile_weight(const LinearWeight& w) {
  if (w.tile_rows != 0 || !w.weight.defined() || !w.weight.device().is_cpu()) return false;
  if (w.format == WeightFormat::Int8) return true;
  return w.format == WeightFormat::Int4 && w.group_size % kTileBlock == 0 && all_f16_values(w.scales) &&
         all_f16_values(w.zeros);
}

int64_t tiled_row_bytes(const LinearWeight& w) {
  return w.format == WeightFormat::Int8 ? padded_k(w.in_features()) : w.in_features() / 2;
}

LinearWeight tile_weight(const LinearWeight& w) {
  TPS_CHECK(can_tile_weight(w), "tile_weight: a ", weight_format_name(w.format), " weight (group ", w.group_size,
            ") has no CPU tile layout");
  const int64_t n = w.out_features(), k = w.in_features(), tiles = tile_count(n);
  LinearWeight out = w;
  out.tile_rows = kWeightTileRows;
  const int64_t row_bytes = tiled_row_bytes(out);
  out.weight = Tensor::empty_cpu(DType::U8, {tiles * kWeightTileRows, row_bytes});
  auto* dst = out.weight.ptr<uint8_t>();
  const int64_t ng = num_weight_groups(w);
  const size_t tile_bytes = static_cast<size_t>(kWeightTileRows * row_bytes);
  if (w.format == WeightFormat::Int8) {
    std::memset(dst, 128, static_cast<size_t>(out.weight.numel()));  // padding: code 0
    const auto* q = w.weight.ptr<const uint8_t>();
    for (int64_t r = 0; r < n; r++) {
      uint8_t* tile = dst + static_cast<size_t>(r / kWeightTileRows) * tile_bytes + (r % kWeightTileRows) * 4;
      for (int64_t c = 0; c < k; c++)  // code + 128 is the two's-complement byte with its top bit flipped
        tile[(c / 4) * kWeightTileRows * 4 + c % 4] = static_cast<uint8_t>(q[r * k + c] ^ 0x80);
    }
  } else {
    std::memset(dst, 0, static_cast<size_t>(out.weight.numel()));  // padding rows
    const auto* q = w.weight.ptr<const uint8_t>();
    for (int64_t r = 0; r < n; r++) {
      uint8_t* tile = dst + static_cast<size_t>(r / kWeightTileRows) * tile_bytes + (r % kWeightTileRows) * 4;
      for (int64_t c8 = 0; c8 < k / 8; c8++) {
        const uint8_t* in = q + r * (k / 2) + c8 * 4;  // columns 8 c8 .. 8 c8 + 7, two per byte
        uint8_t code[8];
        for (int i = 0; i < 4; i++) {
          code[2 * i] = in[i] & 0xf;
          code[2 * i + 1] = in[i] >> 4;
        }
        uint8_t* o = tile + c8 * kWeightTileRows * 4;
        for (int i = 0; i < 4; i++) o[i] = static_cast<uint8_t>(code[i] | (code[4 + i] << 4));
      }
    }
  }
  const std::vector<int64_t> param_shape =
      w.format == WeightFormat::Int8 ? std::vector<int64_t>{tiles * kWeightTileRows} : std::vector<int64_t>{tiles, ng, kWeightTileRows};
  if (w.format == WeightFormat::Int8) {
    out.scales = Tensor::empty_cpu(DType::F32, param_shape);
    std::memset(out.scales.data(), 0, out.scales.nbytes());
    for (int64_t r = 0; r < n; r++) out.scales.ptr<float>()[r] = w.scales.ptr<const float>()[r];
    return out;
  }
  // Int4: the scales and zero points of a group in f16, half the bytes of f32 (a decode step of
  // the 246M shape streams 6.7 MB less). The values are exact: the int4 quantizer and the GPTQ /
  // AWQ loaders give f16 scales and integer zero points (linear_weight.h; can_tile_weight checked).
  out.scales = Tensor::empty_cpu(DType::F16, param_shape);
  out.zeros = Tensor::empty_cpu(DType::F16, param_shape);
  std::memset(out.scales.data(), 0, out.scales.nbytes());
  std::memset(out.zeros.data(), 0, out.zeros.nbytes());
  for (int64_t r = 0; r < n; r++)
    for (int64_t gi = 0; gi < ng; gi++) {
      out.scales.ptr<uint16_t>()[param_index(out, r, gi)] = float_to_f16(w.scales.ptr<const float>()[r * ng + gi]);
      out.zeros.ptr<uint16_t>()[param_index(out, r, gi)] = float_to_f16(w.zeros.ptr<const float>()[r * ng + gi]);
    }
  return out;
}

int tiled_code(const LinearWeight& w, int64_t r, int64_t c) {
  check_tiled(w);
  bool high = false;
  const uint8_t b = w.weight.ptr<const uint8_t>()[code_offset(w, r, c, &high)];
  if (w.format == WeightFormat::Int8) return static_cast<int>(b) - 128;
  return high ? b >> 4 : b & 0xf;
}

float tiled_scale(const LinearWeight& w, int64_t r, int64_t gi) {
  check_tiled(w);
  if (w.format == WeightFormat::Int4) return f16_to_float(w.scales.ptr<const uint16_t>()[param_index(w, r, gi)]);
  return w.scales.ptr<const float>()[param_index(w, r, gi)];
}

float tiled_zero(const LinearWeight& w, int64_t r, int64_t gi) {
  check_tiled(w);
  return w.format == WeightFormat::Int4 ? f16_to_float(w.zeros.ptr<const uint16_t>()[param_index(w, r, gi)]) : 0.f;
}

}  // namespace tpserve
