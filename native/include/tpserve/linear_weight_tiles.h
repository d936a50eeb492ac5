// The CPU tile layout of Int8 and Int4 LinearWeights (tile_rows = 16), what the CPU backend repacks
// them into at load for the VNNI decode kernels (kernels/cpu/linear_vnni_tiles.h): 16 output rows
// side by side, so that one 64-byte vector holds 4 bytes of each of the 16 rows, one vpdpbusd
// against 4 broadcast activation bytes advances all 16 dot products (no horizontal sums), and each
// thread's rows are one sequential stream.
//   Int8: weight U8 [tiles * 16, kp] with kp = k rounded up to 128; bytes in the order
//         [tile][kp / 4][16 rows][4 columns], each the code + 128 (unsigned; padding code 0);
//         scales F32 [tiles * 16] (padding rows 0).
//   Int4: weight U8 [tiles * 16, k / 2] in the order [tile][k / 8][16 rows][4 bytes], byte i of
//         row j in chunk c8 holding code(c8 * 8 + i) in its low nibble and code(c8 * 8 + 4 + i) in
//         its high one; scales, zeros F16 [tiles, k / group_size, 16] (padding rows 0; the values
//         must be f16 values, which int4 scales and zero points are: linear_weight.h); the group
//         size a multiple of 128.
// Rows past n in the last tile are padding. perm (act-order) stays as it is. Such a weight is not
// sliced again (slice_weight_* refuse it); dequantize_rows / quantized_codes / quantized_params
// read it through the accessors below. Tests: tests/linear_weight_tiles_test.cpp.
#pragma once
#include "tpserve/linear_weight.h"

namespace tpserve {

constexpr int64_t kWeightTileRows = 16;

// Int8, or Int4 with a group size that is a multiple of 128 and f16 values as scales and zero
// points, in the row-major layout.
bool can_tile_weight(const LinearWeight& w);
// The same weight in the tile layout (throws when !can_tile_weight(w)).
LinearWeight tile_weight(const LinearWeight& w);

// Tile-layout accessors (the definition above): the code of W[r, c] (Int8: -127..127, Int4:
// 0..15), and the scale / zero point of row r in group gi (Int8: gi = 0, zero 0).
int tiled_code(const LinearWeight& w, int64_t r, int64_t c);
float tiled_scale(const LinearWeight& w, int64_t r, int64_t gi);
float tiled_zero(const LinearWeight& w, int64_t r, int64_t gi);
// Bytes per row of codes in the tile layout (Int8: kp, Int4: k / 2).
int64_t tiled_row_bytes(const LinearWeight& w);

}  // namespace tpserve
