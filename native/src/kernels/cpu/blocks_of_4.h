// for_blocks_of_4: a loop over [0, n) in blocks of up to 4 whose size is a compile-time constant
// in the body, so that the accumulator arrays of a register-blocked kernel stay in registers
// (the VNNI GEMV's activation rows, decode attention's heads and head chunks).
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace tpserve::cpu {

// Calls body(std::integral_constant<int, N>{}, i0) for i0 = 0, 4, 8, ... with N = min(4, n - i0).
// always_inline: defined outside the kernels' target regions, it would otherwise stay a call that
// GCC cannot inline an AVX-512 body into, and the int8 VNNI GEMV ran ~25 % slower that way (a C++
// engine loop, int8 b1 steps 4544 against 3573 us).
template <typename Body>
__attribute__((always_inline)) inline void for_blocks_of_4(int64_t n, const Body& body) {
  for (int64_t i0 = 0; i0 < n; i0 += 4) {
    switch (std::min<int64_t>(4, n - i0)) {
      case 4: body(std::integral_constant<int, 4>{}, i0); break;
      case 3: body(std::integral_constant<int, 3>{}, i0); break;
      case 2: body(std::integral_constant<int, 2>{}, i0); break;
      default: body(std::integral_constant<int, 1>{}, i0); break;
    }
  }
}

}  // namespace tpserve::cpu
