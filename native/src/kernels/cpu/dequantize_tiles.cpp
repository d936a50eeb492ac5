// Tiled Int8 / Int4 weight rows to fp32 (see dequantize_tiles.h). One 64-byte vector of a tile is
// 4 columns (int8) or 2 x 4 columns (int4 nibbles) of 16 rows: each quarter of it widens to 16
// floats, 4 columns of 4 rows, stored as four 16-byte pieces into those rows.
#include "kernels/cpu/dequantize_tiles.h"

#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/cpu_isa.h"
#include "tpserve/linear_weight_tiles.h"

namespace tpserve::cpu {
namespace {

constexpr int64_t kTile = kWeightTileRows;

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma")

// Lanes 4j..4j+3 of quarter qq take lane 4 qq + j of a 16-row vector.
inline __m512 spread_quarter(__m512 rows, int qq) {
  const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(4 * qq), _mm512_srli_epi32(
                                           _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), 2));
  return _mm512_maskz_permutexvar_ps(0xffff, idx, rows);
}

// Stores the 4 x 4 floats of v (rows 4 qq + j, 4 columns each) at column c of out's rows; rows at
// or past valid are skipped.
inline void store_quarter(__m512 v, int qq, int valid, int64_t k, int64_t c, float* out) {
  const int j0 = 4 * qq;
  if (j0 + 0 < valid) _mm_storeu_ps(out + (j0 + 0) * k + c, _mm512_maskz_extractf32x4_ps(0xf, v, 0));
  if (j0 + 1 < valid) _mm_storeu_ps(out + (j0 + 1) * k + c, _mm512_maskz_extractf32x4_ps(0xf, v, 1));
  if (j0 + 2 < valid) _mm_storeu_ps(out + (j0 + 2) * k + c, _mm512_maskz_extractf32x4_ps(0xf, v, 2));
  if (j0 + 3 < valid) _mm_storeu_ps(out + (j0 + 3) * k + c, _mm512_maskz_extractf32x4_ps(0xf, v, 3));
}

// One tile's rows [0, valid) into out ([valid, k]); columns [0, k4) by vectors, the rest by the accessor.
void int8_tile_avx512(const LinearWeight& w, int64_t t, int valid, float* out) {
  const int64_t k = w.in_features(), kp = tiled_row_bytes(w), k4 = k / 4 * 4;
  const uint8_t* wt = w.weight.ptr<const uint8_t>() + t * kTile * kp;
  const __m512 rows = _mm512_loadu_ps(w.scales.ptr<const float>() + t * kTile);
  __m512 sc[4];
  for (int qq = 0; qq < 4; qq++) sc[qq] = spread_quarter(rows, qq);
  const __m512i bias = _mm512_set1_epi32(128);
  for (int64_t c = 0; c < k4; c += 4) {
    const uint8_t* v = wt + (c / 4) * 64;
    for (int qq = 0; qq < 4; qq++) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v + 16 * qq));
      const __m512i q = _mm512_sub_epi32(_mm512_maskz_cvtepu8_epi32(0xffff, b), bias);
      store_quarter(_mm512_mul_ps(_mm512_maskz_cvtepi32_ps(0xffff, q), sc[qq]), qq, valid, k, c, out);
    }
  }
  for (int j = 0; j < valid; j++)
    for (int64_t c = k4; c < k; c++)
      out[j * k + c] = static_cast<float>(tiled_code(w, t * kTile + j, c)) * tiled_scale(w, t * kTile + j, 0);
}

void int4_tile_avx512(const LinearWeight& w, int64_t t, int valid, float* out) {
  const int64_t k = w.in_features(), g = w.group_size, ng = k / g;
  const uint8_t* wt = w.weight.ptr<const uint8_t>() + t * kTile * (k / 2);
  const float* st = w.scales.ptr<const float>() + t * ng * kTile;
  const float* zt = w.zeros.ptr<const float>() + t * ng * kTile;
  const __m128i low = _mm_set1_epi8(0x0f);
  __m512 sc[4], zc[4];
  for (int64_t c = 0; c < k; c += 8) {
    if (c % g == 0) {  // a new group: its scales and zero points, spread per quarter
      const __m512 s = _mm512_loadu_ps(st + (c / g) * kTile), z = _mm512_loadu_ps(zt + (c / g) * kTile);
      for (int qq = 0; qq < 4; qq++) {
        sc[qq] = spread_quarter(s, qq);
        zc[qq] = spread_quarter(z, qq);
      }
    }
    const uint8_t* v = wt + (c / 8) * 64;
    for (int qq = 0; qq < 4; qq++) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v + 16 * qq));
      const __m512 lo = _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepu8_epi32(0xffff, _mm_and_si128(b, low)));
      const __m512 hi = _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepu8_epi32(0xffff, _mm_and_si128(_mm_srli_epi16(b, 4), low)));
      // (q - z) * s, rounded as dequantize_rows() rounds it
      store_quarter(_mm512_mul_ps(_mm512_sub_ps(lo, zc[qq]), sc[qq]), qq, valid, k, c, out);
      store_quarter(_mm512_mul_ps(_mm512_sub_ps(hi, zc[qq]), sc[qq]), qq, valid, k, c + 4, out);
    }
  }
}

#pragma GCC pop_options

}  // namespace

void dequantize_tile_rows(const LinearWeight& w, int64_t r0, int64_t r1, float* out) {
  TPS_CHECK(w.tile_rows == kTile && r0 % kTile == 0, "dequantize_tile_rows: needs a tiled weight and r0 (", r0,
            ") a multiple of ", kTile);
  TPS_CHECK(r0 >= 0 && r0 <= r1 && r1 <= w.out_features(), "dequantize_tile_rows: rows [", r0, ", ", r1,
            ") out of range");
  const int64_t k = w.in_features();
  if (active_isa() != Isa::Avx512) {
    for (int64_t r = r0; r < r1; r++)
      for (int64_t c = 0; c < k; c++) {
        const int64_t gi = w.format == WeightFormat::Int4 ? c / w.group_size : 0;
        out[(r - r0) * k + c] = (static_cast<float>(tiled_code(w, r, c)) - tiled_zero(w, r, gi)) * tiled_scale(w, r, gi);
      }
    return;
  }
  for (int64_t row = r0; row < r1; row += kTile) {
    const int valid = static_cast<int>(std::min<int64_t>(kTile, r1 - row));
    float* o = out + (row - r0) * k;
    if (w.format == WeightFormat::Int8) int8_tile_avx512(w, row / kTile, valid, o);
    else int4_tile_avx512(w, row / kTile, valid, o);
  }
}

}  // namespace tpserve::cpu
