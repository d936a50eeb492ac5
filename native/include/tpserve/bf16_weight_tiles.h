// The CPU tile layout of BF16 Float LinearWeights (tile_rows = 16), what the CPU backend lays
// them out in at load for the decode GEMV (kernels/cpu/linear_bf16_tiles.h): 16 output rows side
// by side, one 32-bit lane per row holding two consecutive columns, so that one 64-byte vector
// holds a column pair of all 16 rows and the GEMV needs no horizontal sums. The GEMV works on 4
// tiles at once (4 independent sums), so tiles come in groups of 4 interleaved by column pair:
// each thread's rows are one sequential stream, which streams 8-10 % faster than 4 tiles side by
// side (4 streams; the row-major GEMV reads 8 rows at once: 8 streams).
//   weight BF16 [tiles * 16, kp] with kp = k rounded up to a multiple of 8; elements in the order
//   [group of 4 tiles][kp / 2][tile of the group][16 rows][2 columns] (the last group may have
//   fewer tiles); padding rows and columns hold 0. rows = n, cols = k.
// Such a weight is not sliced or fused again; dequantize_rows reads it through tiled_bf16().
// Tests: tests/linear_bf16_tiles_test.cpp.
#pragma once
#include "tpserve/linear_weight.h"

namespace tpserve {

// Columns of a tile row, k rounded up to a multiple of this (4 pairs: the GEMV's unroll).
constexpr int64_t kBf16TileColumnBlock = 8;
// Tiles per group (64 rows), interleaved column pair by column pair.
constexpr int64_t kBf16TileGroup = 4;

// A BF16 [n, k] CPU tensor.
bool can_tile_bf16(const Tensor& w);
// The same weight in the tile layout (throws when !can_tile_bf16(w)).
LinearWeight tile_bf16_weight(const Tensor& w);
// W[r, c] of a tiled BF16 weight, as its raw bf16 bits.
uint16_t tiled_bf16(const LinearWeight& w, int64_t r, int64_t c);
// k padded (the tile layout's kp above).
int64_t bf16_tile_columns(int64_t k);

}  // namespace tpserve
