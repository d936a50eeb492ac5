// Tiled Int8 / Int4 weight rows to fp32 (see dequantize_tiles.h). A 64-byte vector of a tile is 4
// bytes of each of 16 rows; four such vectors (int8: 16 columns; int4: the low and high nibbles of
// two, 16 columns too) are transposed by dwords into 16 bytes per row, which widen to 16 floats
// gathered in a scratch and copied into that row.
#include "kernels/cpu/dequantize_tiles.h"

#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/cpu_isa.h"
#include "tpserve/linear_weight_tiles.h"

namespace tpserve::cpu {
namespace {

constexpr int64_t kTile = kWeightTileRows;

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")

// r[j] lane q = row 4 q + j's dwords [a, b, c, d] (the four vectors' dword of that row).
inline void rows_by_four(__m512i a, __m512i b, __m512i c, __m512i d, __m512i* r) {
  const __m512i ab0 = _mm512_maskz_unpacklo_epi32(0xffff, a, b), ab1 = _mm512_maskz_unpackhi_epi32(0xffff, a, b);
  const __m512i cd0 = _mm512_maskz_unpacklo_epi32(0xffff, c, d), cd1 = _mm512_maskz_unpackhi_epi32(0xffff, c, d);
  r[0] = _mm512_maskz_unpacklo_epi64(0xff, ab0, cd0);
  r[1] = _mm512_maskz_unpackhi_epi64(0xff, ab0, cd0);
  r[2] = _mm512_maskz_unpacklo_epi64(0xff, ab1, cd1);
  r[3] = _mm512_maskz_unpackhi_epi64(0xff, ab1, cd1);
}

// Calls emit(row, 16 bytes of that row) for the tile rows below valid.
template <typename Emit>
inline void for_tile_rows(const __m512i* r, int valid, const Emit& emit) {
  for (int j = 0; j < 4; j++) {
    if (j < valid) emit(j, _mm512_maskz_extracti32x4_epi32(0xf, r[j], 0));
    if (4 + j < valid) emit(4 + j, _mm512_maskz_extracti32x4_epi32(0xf, r[j], 1));
    if (8 + j < valid) emit(8 + j, _mm512_maskz_extracti32x4_epi32(0xf, r[j], 2));
    if (12 + j < valid) emit(12 + j, _mm512_maskz_extracti32x4_epi32(0xf, r[j], 3));
  }
}

inline __m512 widen(__m128i bytes) { return _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepu8_epi32(0xffff, bytes)); }

// The 16 rows of each 128 columns go through a small scratch first, then out row by row: stores
// straight into 16 rows of out (4 KB apart for k = 1024) hit one L1 set and cost ~15 % of the
// prefill GEMM time (quant_gemv_bench m = 128).
constexpr int64_t kSpan = 128;
struct Scratch {
  alignas(64) float rows[kTile][kSpan];
};

inline void flush_scratch(const Scratch& sc, int valid, int64_t k, int64_t c, int64_t width, float* out) {
  for (int j = 0; j < valid; j++) std::copy(sc.rows[j], sc.rows[j] + width, out + j * k + c);
}

// One tile's rows [0, valid) into out ([valid, k]); columns [0, k16) by vectors, the rest by the accessor.
void int8_tile_avx512(const LinearWeight& w, int64_t t, int valid, float* out) {
  const int64_t k = w.in_features(), kp = tiled_row_bytes(w), k16 = k / 16 * 16;
  const uint8_t* wt = w.weight.ptr<const uint8_t>() + t * kTile * kp;
  const float* st = w.scales.ptr<const float>() + t * kTile;
  const __m512 offset = _mm512_set1_ps(128.f);
  Scratch sc;
  for (int64_t c0 = 0; c0 < k16; c0 += kSpan) {
    const int64_t width = std::min(kSpan, k16 - c0);
    for (int64_t c = c0; c < c0 + width; c += 16) {
      const uint8_t* v = wt + (c / 4) * 64;
      __m512i r[4];
      rows_by_four(_mm512_loadu_si512(v), _mm512_loadu_si512(v + 64), _mm512_loadu_si512(v + 128),
                   _mm512_loadu_si512(v + 192), r);
      for_tile_rows(r, valid, [&](int j, __m128i bytes) {
        _mm512_store_ps(sc.rows[j] + (c - c0), _mm512_mul_ps(_mm512_sub_ps(widen(bytes), offset), _mm512_set1_ps(st[j])));
      });
    }
    flush_scratch(sc, valid, k, c0, width, out);
  }
  for (int j = 0; j < valid; j++)
    for (int64_t c = k16; c < k; c++)
      out[j * k + c] = static_cast<float>(tiled_code(w, t * kTile + j, c)) * tiled_scale(w, t * kTile + j, 0);
}

void int4_tile_avx512(const LinearWeight& w, int64_t t, int valid, float* out) {
  const int64_t k = w.in_features(), g = w.group_size, ng = k / g;
  const uint8_t* wt = w.weight.ptr<const uint8_t>() + t * kTile * (k / 2);
  const auto* st = w.scales.ptr<const uint16_t>() + t * ng * kTile;  // f16
  const auto* zt = w.zeros.ptr<const uint16_t>() + t * ng * kTile;
  const __m512i low = _mm512_set1_epi8(0x0f);
  Scratch sc;
  for (int64_t c0 = 0; c0 < k; c0 += kSpan) {  // k is a multiple of the group size, itself of 128
    alignas(64) float sg[kTile], zg[kTile];
    _mm512_store_ps(sg, _mm512_maskz_cvtph_ps(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(st + (c0 / g) * kTile))));
    _mm512_store_ps(zg, _mm512_maskz_cvtph_ps(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zt + (c0 / g) * kTile))));
    for (int64_t c = c0; c < c0 + kSpan; c += 16) {
      const __m512i a = _mm512_loadu_si512(wt + (c / 8) * 64), b = _mm512_loadu_si512(wt + (c / 8) * 64 + 64);
      __m512i r[4];
      rows_by_four(_mm512_and_si512(a, low), _mm512_and_si512(_mm512_srli_epi16(a, 4), low), _mm512_and_si512(b, low),
                   _mm512_and_si512(_mm512_srli_epi16(b, 4), low), r);
      for_tile_rows(r, valid, [&](int j, __m128i bytes) {
        // (q - z) * s, rounded as dequantize_rows() rounds it
        _mm512_store_ps(sc.rows[j] + (c - c0),
                        _mm512_mul_ps(_mm512_sub_ps(widen(bytes), _mm512_set1_ps(zg[j])), _mm512_set1_ps(sg[j])));
      });
    }
    flush_scratch(sc, valid, k, c0, kSpan, out);
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
