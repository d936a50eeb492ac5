// AVX-512 VNNI GEMV kernels on the 16-row tile layout (see linear_vnni_tiles.h). Per tile and up to
// M activation rows at a time: C independent int32 chains per activation row over each 128-column
// block (vpdpbusd latency), then one conversion and one fma per block into 16 fp32 row sums.
#include "kernels/cpu/linear_vnni_tiles.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/blocks_of_4.h"
#include "tpserve/linear_weight_tiles.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")

namespace tpserve::cpu {
namespace {

constexpr int64_t kTile = kWeightTileRows;
// Software prefetch along each thread's stream of tiles, for batches only. At m = 1 the hardware
// prefetchers keep up alone: a prefetcht0 2 KB ahead on every int4 vector made a C++ loop over a
// 246M step's GEMVs 13-30 % slower than none, and int8 b1 steps of a C++ engine loop ran ~2 %
// faster without. At m = 8 the int4 steps ran 17 % faster with it (2 KB), the int8 ones 15 % (4 KB);
// at m = 32 5 % both (steps alternated with bf16's on this host, docs/benchmarks.md).
constexpr int64_t kInt4BatchPrefetchBytes = 2048, kInt8BatchPrefetchBytes = 4096;

inline void prefetch_ahead(const uint8_t* p, int64_t bytes) {
  _mm_prefetch(reinterpret_cast<const char*>(p + bytes), _MM_HINT_T0);
}

// Four activation bytes as one int32, broadcast to the 16 lanes (one embedded-broadcast operand).
inline __m512i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

template <int C>
inline __m512i sum_chains(const __m512i* d) {
  __m512i s = d[0];
  for (int c = 1; c < C; c++) s = _mm512_add_epi32(s, d[c]);
  return s;
}

// acc[i] = 16 row sums of tile wt (int8, kp = blocks * 128 bytes per row) for activation row i0 + i;
// Prefetch: the weight bytes ahead (batches).
template <int M, int C, bool Prefetch>
inline void q8_tile(const QuantizedActivation& x, int64_t i0, const uint8_t* wt, __m512* acc) {
  constexpr int kVectors = kActBlock / 4;  // 64-byte vectors per 128-column block: 4 columns x 16 rows
  static_assert(kVectors % C == 0, "the chains split a block's vectors evenly");
  for (int i = 0; i < M; i++) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < x.blocks; b++) {
    const uint8_t* wb = wt + b * kActBlock * kTile;
    __m512i d[M][C];
    const int8_t* xr[M];
    for (int i = 0; i < M; i++) {
      xr[i] = x.row(i0 + i) + b * kActBlock;
      // the +128 of every stored weight byte cancelled exactly in the int32 sum
      d[i][0] = _mm512_set1_epi32(-128 * x.sums[static_cast<size_t>((i0 + i) * x.blocks + b)]);
      for (int c = 1; c < C; c++) d[i][c] = _mm512_setzero_si512();
    }
    for (int v = 0; v < kVectors; v += C) {
      for (int c = 0; c < C; c++) {
        const uint8_t* p = wb + (v + c) * 64;
        if constexpr (Prefetch) prefetch_ahead(p, kInt8BatchPrefetchBytes);
        const __m512i wv = _mm512_loadu_si512(p);
        for (int i = 0; i < M; i++) d[i][c] = _mm512_dpbusd_epi32(d[i][c], wv, bcast4(xr[i] + 4 * (v + c)));
      }
    }
    for (int i = 0; i < M; i++) {
      const __m512 sx = _mm512_set1_ps(x.scales[static_cast<size_t>((i0 + i) * x.blocks + b)]);
      acc[i] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(0xffff, sum_chains<C>(d[i])), sx, acc[i]);
    }
  }
}

// The 16 f16 values at p as fp32.
inline __m512 load_f16x16(const uint16_t* p) {
  return _mm512_maskz_cvtph_ps(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// acc[i] = 16 row sums of tile wt (int4, k / 2 bytes per row; st, zt: the tile's [ng, 16] f16
// scales and zero points) for activation row i0 + i; Prefetch: the weight bytes ahead (batches).
template <int M, int C, bool Prefetch>
inline void q4_tile(const QuantizedActivation& x, int64_t i0, const uint8_t* wt, const uint16_t* st, const uint16_t* zt,
                    const float* act_group_sums, int64_t ng, int64_t per_group, __m512* acc) {
  constexpr int kVectors = kActBlock / 8;  // 8 columns x 16 rows per 64-byte vector
  constexpr int V = C / 2;                 // vectors per step: each gives a low and a high chain
  static_assert(kVectors % V == 0, "the steps split a block's vectors evenly");
  const __m512i low = _mm512_set1_epi8(0x0f);
  for (int i = 0; i < M; i++) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < x.blocks; b++) {
    const uint8_t* wb = wt + b * (kActBlock / 2) * kTile;
    __m512i d[M][C];
    const int8_t* xr[M];
    for (int i = 0; i < M; i++) {
      xr[i] = x.row(i0 + i) + b * kActBlock;
      for (int c = 0; c < C; c++) d[i][c] = _mm512_setzero_si512();
    }
    for (int v = 0; v < kVectors; v += V) {
      for (int u = 0; u < V; u++) {
        const uint8_t* p = wb + (v + u) * 64;
        if constexpr (Prefetch) prefetch_ahead(p, kInt4BatchPrefetchBytes);
        const __m512i wv = _mm512_loadu_si512(p);
        const __m512i lo = _mm512_and_si512(wv, low), hi = _mm512_and_si512(_mm512_srli_epi16(wv, 4), low);
        for (int i = 0; i < M; i++) {
          const int8_t* xc = xr[i] + 8 * (v + u);
          d[i][2 * u] = _mm512_dpbusd_epi32(d[i][2 * u], lo, bcast4(xc));
          d[i][2 * u + 1] = _mm512_dpbusd_epi32(d[i][2 * u + 1], hi, bcast4(xc + 4));
        }
      }
    }
    const __m512 sv = load_f16x16(st + (b / per_group) * kTile);
    for (int i = 0; i < M; i++) {
      const __m512 f = _mm512_mul_ps(sv, _mm512_set1_ps(x.scales[static_cast<size_t>((i0 + i) * x.blocks + b)]));
      acc[i] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(0xffff, sum_chains<C>(d[i])), f, acc[i]);
    }
  }
  for (int64_t g = 0; g < ng; g++) {
    const __m512 sz = _mm512_mul_ps(load_f16x16(st + g * kTile), load_f16x16(zt + g * kTile));
    for (int i = 0; i < M; i++)
      acc[i] = _mm512_fnmadd_ps(sz, _mm512_set1_ps(act_group_sums[(i0 + i) * ng + g]), acc[i]);
  }
}

// y[i0 + i, row0 + j] = acc[i][j] * scale[j] (scales may be null: 1) + bias[row0 + j], j < valid.
template <int M>
inline void store_tile(const __m512* acc, const float* scales16, const float* bias, int64_t row0, int valid, int64_t n,
                       int64_t i0, float* y) {
  const __mmask16 mk = static_cast<__mmask16>(valid >= 16 ? 0xffffu : (1u << valid) - 1u);
  const __m512 b = bias ? _mm512_maskz_loadu_ps(mk, bias + row0) : _mm512_setzero_ps();
  for (int i = 0; i < M; i++) {
    const __m512 v = scales16 ? _mm512_fmadd_ps(acc[i], _mm512_loadu_ps(scales16), b) : _mm512_add_ps(acc[i], b);
    _mm512_mask_storeu_ps(y + (i0 + i) * n + row0, mk, v);
  }
}

}  // namespace

void q8_tiles_rows(const QuantizedActivation& x, const LinearWeight& w, const float* bias, int64_t n0, int64_t n1,
                   float* y) {
  const int64_t n = w.out_features(), tile_bytes = kTile * x.stride;
  const auto* q = w.weight.ptr<const uint8_t>();
  const float* s = w.scales.ptr<const float>();
  for (int64_t row = n0; row < n1; row += kTile) {
    const uint8_t* wt = q + (row / kTile) * tile_bytes;
    const int valid = static_cast<int>(std::min<int64_t>(kTile, n1 - row));
    for_blocks_of_4(x.m, [&](auto mc, int64_t i0) {
      constexpr int M = decltype(mc)::value;
      __m512 acc[M];
      // 2 chains at m = 1: whole int8 engine steps 6-15 % faster than with 4 (and 4 had been 3.5 %
      // faster than 8), in each of 9 runs alternated with bf16 (docs/benchmarks.md, engine_step_bench);
      // the int32 sums, and so the result, are the same.
      if (x.m > 1) q8_tile<M, M == 1 ? 4 : 2, true>(x, i0, wt, acc);
      else q8_tile<M, 2, false>(x, i0, wt, acc);
      store_tile<M>(acc, s + row, bias, row, valid, n, i0, y);
    });
  }
}

void q4_tiles_rows(const QuantizedActivation& x, const float* act_group_sums, const LinearWeight& w, const float* bias,
                   int64_t n0, int64_t n1, float* y) {
  const int64_t n = w.out_features(), k = w.in_features(), g = w.group_size, ng = k / g;
  const int64_t tile_bytes = kTile * (k / 2);
  const auto* q = w.weight.ptr<const uint8_t>();
  const auto* s = w.scales.ptr<const uint16_t>();
  const auto* z = w.zeros.ptr<const uint16_t>();
  for (int64_t row = n0; row < n1; row += kTile) {
    const int64_t t = row / kTile;
    const int valid = static_cast<int>(std::min<int64_t>(kTile, n1 - row));
    for_blocks_of_4(x.m, [&](auto mc, int64_t i0) {
      constexpr int M = decltype(mc)::value;
      __m512 acc[M];
      const uint8_t* wt = q + t * tile_bytes;
      const uint16_t *st = s + t * ng * kTile, *zt = z + t * ng * kTile;
      if (x.m > 1) q4_tile<M, M == 1 ? 4 : 2, true>(x, i0, wt, st, zt, act_group_sums, ng, g / kActBlock, acc);
      else q4_tile<M, 4, false>(x, i0, wt, st, zt, act_group_sums, ng, g / kActBlock, acc);
      store_tile<M>(acc, nullptr, bias, row, valid, n, i0, y);
    });
  }
}

}  // namespace tpserve::cpu
#pragma GCC pop_options
