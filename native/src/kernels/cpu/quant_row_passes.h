// The loop the dot-product GEMV kernels share (linear_vnni.cpp, linear_fp8_bf16.cpp): output rows
// [n0, n1) in passes of R weight rows (the last few one at a time) times activation rows in blocks
// of up to M. block(rows, mi, row, i0, part) gets rows (R or 1) and mi (1..M) as compile-time
// constants and fills part[i * rows + j] for weight row row + j and activation row i0 + i; then
//   y[i0 + i, row + j] = part[i * rows + j] * scales[row + j] (scales may be null: 1) + bias[row + j].
// Include it inside the kernel file's target region, so that it compiles for that target.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace tpserve::cpu::quant_rows {

template <int R, int M, typename Block>
inline void dispatch(int rows, int mi, const Block& block) {
  if constexpr (M > 1) {
    if (mi < M) return dispatch<R, M - 1>(rows, mi, block);
  }
  if (rows == R) block(std::integral_constant<int, R>{}, std::integral_constant<int, M>{});
  else block(std::integral_constant<int, 1>{}, std::integral_constant<int, M>{});
}

template <int R, int M, typename Block>
inline void for_row_passes(int64_t m, int64_t n, int64_t n0, int64_t n1, const float* scales, const float* bias,
                           float* y, const Block& block) {
  float part[M * R];
  for (int64_t row = n0; row < n1;) {
    const int rows = n1 - row >= R ? R : 1;
    for (int64_t i0 = 0; i0 < m; i0 += M) {
      const int mi = static_cast<int>(std::min<int64_t>(M, m - i0));
      dispatch<R, M>(rows, mi, [&](auto rc, auto mc) { block(rc, mc, row, i0, part); });
      for (int i = 0; i < mi; i++)
        for (int j = 0; j < rows; j++)
          y[(i0 + i) * n + row + j] =
              part[i * rows + j] * (scales ? scales[row + j] : 1.f) + (bias ? bias[row + j] : 0.f);
    }
    row += rows;
  }
}

}  // namespace tpserve::cpu::quant_rows
