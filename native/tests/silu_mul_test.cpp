// silu_mul(): SwiGLU activation against a double reference on every SIMD path, including in
// place and large n.
// Run: ctest -R SiluMul
#include "kernels/cpu/silu_mul.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace tpserve {
namespace {

TEST(SiluMul, MatchesReferenceOnEveryPath) {
  for (cpu::Isa isa : test::available_isas()) {
  test::IsaScope scope(isa);
  for (int64_t n : {1, 37, 1000, 100003}) {
    auto gate = test::random_floats(static_cast<size_t>(n), 1, -12.f, 12.f);
    auto up = test::random_floats(static_cast<size_t>(n), 2, -2.f, 2.f);
    std::vector<double> want(gate.size());
    for (size_t i = 0; i < gate.size(); i++) want[i] = gate[i] / (1.0 + std::exp(-static_cast<double>(gate[i]))) * up[i];
    auto out = test::nan_filled(gate.size());
    cpu::silu_mul(gate.data(), up.data(), n, out.data());
    EXPECT_LT(test::rel_error(out, want), 1e-6) << "n=" << n;
    cpu::silu_mul(gate.data(), up.data(), n, gate.data());  // out aliases gate
    EXPECT_LT(test::rel_error(gate, want), 1e-6);
  }
  }
}

TEST(SiluMul, RejectsNegativeSize) {
  float a = 1.f;
  EXPECT_THROW(cpu::silu_mul(&a, &a, -1, &a), Error);
}

}  // namespace
}  // namespace tpserve
