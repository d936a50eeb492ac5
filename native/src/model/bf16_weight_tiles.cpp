// Repacking of BF16 float weights into the CPU tile layout and its element accessor (see
// tpserve/bf16_weight_tiles.h).
#include "tpserve/bf16_weight_tiles.h"

#include <cstring>

#include "tpserve/linear_weight_tiles.h"

namespace tpserve {
namespace {

size_t element_index(int64_t r, int64_t c, int64_t kp) {
  const int64_t t = r / kWeightTileRows, j = r % kWeightTileRows;
  return static_cast<size_t>(t * kWeightTileRows * kp + ((c / 2) * kWeightTileRows + j) * 2 + c % 2);
}

}  // namespace

int64_t bf16_tile_columns(int64_t k) { return (k + kBf16TileColumnBlock - 1) / kBf16TileColumnBlock * kBf16TileColumnBlock; }

bool can_tile_bf16(const Tensor& w) {
  return w.defined() && w.device().is_cpu() && w.dtype() == DType::BF16 && w.rank() == 2 && w.dim(0) > 0 && w.dim(1) > 0;
}

LinearWeight tile_bf16_weight(const Tensor& w) {
  TPS_CHECK(can_tile_bf16(w), "tile_bf16_weight: needs a BF16 [n, k] CPU tensor, got ", dtype_name(w.dtype()), " ",
            w.shape_string());
  const int64_t n = w.dim(0), k = w.dim(1), kp = bf16_tile_columns(k);
  const int64_t tiles = (n + kWeightTileRows - 1) / kWeightTileRows;
  LinearWeight out;
  out.weight = Tensor::empty_cpu(DType::BF16, {tiles * kWeightTileRows, kp});  // zero: the padding
  out.rows = n;
  out.cols = k;
  out.tile_rows = kWeightTileRows;
  const auto* src = w.ptr<const uint16_t>();
  auto* dst = out.weight.ptr<uint16_t>();
  for (int64_t r = 0; r < n; r++)
    for (int64_t c = 0; c < k; c++) dst[element_index(r, c, kp)] = src[r * k + c];
  return out;
}

uint16_t tiled_bf16(const LinearWeight& w, int64_t r, int64_t c) {
  TPS_CHECK(w.format == WeightFormat::Float && w.tile_rows == kWeightTileRows && w.weight.dtype() == DType::BF16,
            "tiled_bf16: not a tiled BF16 weight");
  TPS_CHECK(r >= 0 && r < w.rows && c >= 0 && c < w.cols, "tiled_bf16: element (", r, ", ", c, ") outside [", w.rows,
            ", ", w.cols, "]");
  return w.weight.ptr<const uint16_t>()[element_index(r, c, w.weight.dim(1))];
}

}  // namespace tpserve
