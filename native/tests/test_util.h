// Shared helpers of the kernel tests: seeded random fills, dtype rounding, weight tensors of a
// given dtype, relative error against a double reference, and a scope that forces a SIMD path.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_isa.h"
#include "tpserve/dtype.h"
#include "tpserve/tensor.h"

namespace tpserve::test {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline std::vector<float> nan_filled(size_t n) { return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()); }

// The value a float takes once stored as dtype and read back.
inline float round_to(DType dtype, float f) {
  switch (dtype) {
    case DType::BF16: return bf16_to_float(float_to_bf16(f));
    case DType::F16: return f16_to_float(float_to_f16(f));
    case DType::F32: break;
  }
  return f;
}

// A CPU tensor of dtype holding `values` (rounded); `values` is rounded in place to match.
inline Tensor make_tensor(DType dtype, std::vector<int64_t> shape, std::vector<float>& values) {
  Tensor t = Tensor::empty_cpu(dtype, std::move(shape));
  for (size_t i = 0; i < values.size(); i++) {
    values[i] = round_to(dtype, values[i]);
    if (dtype == DType::F32) t.ptr<float>()[i] = values[i];
    else if (dtype == DType::BF16) t.ptr<uint16_t>()[i] = float_to_bf16(values[i]);
    else t.ptr<uint16_t>()[i] = float_to_f16(values[i]);
  }
  return t;
}

// max |got - want| / max(max |want|, floor): an error relative to the scale of the output.
inline double rel_error(const std::vector<float>& got, const std::vector<double>& want, double floor = 1e-6) {
  EXPECT_EQ(got.size(), want.size());
  double max_abs = floor, max_err = 0;
  for (size_t i = 0; i < want.size(); i++) max_abs = std::max(max_abs, std::fabs(want[i]));
  for (size_t i = 0; i < want.size() && i < got.size(); i++) {
    double e = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(e == e)) return std::numeric_limits<double>::infinity();  // NaN: unwritten or broken
    max_err = std::max(max_err, e);
  }
  return max_err / max_abs;
}

// y[m, n] = x . W^T + b in double (W [n, k] row-major, as given: round it to the weight dtype first).
inline std::vector<double> linear_reference(const std::vector<float>& x, const std::vector<float>& w,
                                            const std::vector<float>* b, int64_t m, int64_t n, int64_t k) {
  std::vector<double> y(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = b ? (*b)[j] : 0.0;
      for (int64_t t = 0; t < k; t++) s += static_cast<double>(x[i * k + t]) * w[j * k + t];
      y[i * n + j] = s;
    }
  return y;
}

inline std::vector<DType> all_dtypes() { return {DType::F32, DType::F16, DType::BF16}; }

// Every SIMD path this machine can run, best first.
inline std::vector<cpu::Isa> available_isas() {
  std::vector<cpu::Isa> out;
  for (int i = static_cast<int>(cpu::hardware_isa()); i >= 0; i--) out.push_back(static_cast<cpu::Isa>(i));
  return out;
}

// Forces a SIMD path through TPSERVE_CPU_ISA for the lifetime of the scope.
class IsaScope {
 public:
  explicit IsaScope(cpu::Isa isa) {
    const char* old = std::getenv("TPSERVE_CPU_ISA");
    had_old_ = old != nullptr;
    if (had_old_) old_ = old;
    setenv("TPSERVE_CPU_ISA", cpu::isa_name(isa), 1);
    EXPECT_EQ(cpu::reload_isa(), isa);
  }
  ~IsaScope() {
    if (had_old_) setenv("TPSERVE_CPU_ISA", old_.c_str(), 1);
    else unsetenv("TPSERVE_CPU_ISA");
    cpu::reload_isa();
  }

 private:
  bool had_old_ = false;
  std::string old_;
};

}  // namespace tpserve::test
