// Repacking of BF16 float weights into the CPU tile layout and its element accessor (see
// tpserve/bf16_weight_tiles.h).
#include "tpserve/bf16_weight_tiles.h"

#include <algorithm>
#include <cstring>

#include "tpserve/linear_weight_tiles.h"

namespace tpserve {
namespace {

size_t element_index(int64_t r, int64_t c, int64_t kp, int64_t tiles) {
  const int64_t t = r / kWeightTileRows, j = r % kWeightTileRows;
  const int64_t group = t / kBf16TileGroup, in_group = std::min(kBf16TileGroup, tiles - group * kBf16TileGroup);
  return static_cast<size_t>(group * kBf16TileGroup * kWeightTileRows * kp +
                             (((c / 2) * in_group + t % kBf16TileGroup) * kWeightTileRows + j) * 2 + c % 2);
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
  // A tile is a transpose of its 16 rows' column pairs (4 bytes each): done in blocks of 16 x 16
  // pairs through a local block, so both sides move whole 64-byte lines. (Element by element
  // through element_index() it ran at 0.65 GB/s: minutes more to load a 72 GB model.)
  const auto* src = w.ptr<const uint16_t>();
  auto* dst = out.weight.ptr<uint16_t>();
  constexpr int64_t R = kWeightTileRows, B = 16;  // rows per tile, pairs per block
  const int64_t full_pairs = k / 2;
  uint32_t block[R][B];
  for (int64_t t = 0; t < tiles; t++) {
    const int64_t rows = std::min<int64_t>(R, n - t * R);
    const int64_t group = t / kBf16TileGroup, in_group = std::min(kBf16TileGroup, tiles - group * kBf16TileGroup);
    uint16_t* tile = dst + group * kBf16TileGroup * R * kp + (t % kBf16TileGroup) * 2 * R;
    const int64_t pair_stride = in_group * 2 * R;  // elements from one column pair of the tile to the next
    for (int64_t q0 = 0; q0 < full_pairs; q0 += B) {
      const int64_t nq = std::min<int64_t>(B, full_pairs - q0);
      for (int64_t j = 0; j < rows; j++) std::memcpy(block[j], src + (t * R + j) * k + 2 * q0, static_cast<size_t>(nq) * 4);
      for (int64_t j = rows; j < R; j++) std::memset(block[j], 0, sizeof(block[j]));
      for (int64_t q = 0; q < nq; q++) {
        uint32_t line[R];
        for (int64_t j = 0; j < R; j++) line[j] = block[j][q];
        std::memcpy(tile + (q0 + q) * pair_stride, line, sizeof(line));
      }
    }
    if (k % 2 != 0)  // the last column, alone in its pair (the other half stays zero)
      for (int64_t j = 0; j < rows; j++) tile[(k / 2) * pair_stride + j * 2] = src[(t * R + j) * k + k - 1];
  }
  return out;
}

uint16_t tiled_bf16(const LinearWeight& w, int64_t r, int64_t c) {
  TPS_CHECK(w.format == WeightFormat::Float && w.tile_rows == kWeightTileRows && w.weight.dtype() == DType::BF16,
            "tiled_bf16: not a tiled BF16 weight");
  TPS_CHECK(r >= 0 && r < w.rows && c >= 0 && c < w.cols, "tiled_bf16: element (", r, ", ", c, ") outside [", w.rows,
            ", ", w.cols, "]");
  return w.weight.ptr<const uint16_t>()[element_index(r, c, w.weight.dim(1), w.weight.dim(0) / kWeightTileRows)];
}

}  // namespace tpserve
