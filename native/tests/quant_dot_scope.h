// Test helper: forces the decode dot product of the quantized linear kernels
// (TPSERVE_CPU_QUANT_DOT=float|low, linear_quantized.h) for one scope, then restores it.
#pragma once
#include <cstdlib>
#include <string>

#include "kernels/cpu/linear_quantized.h"

namespace tpserve::test {

class QuantDotScope {
 public:
  explicit QuantDotScope(const char* dot) {
    const char* old = std::getenv("TPSERVE_CPU_QUANT_DOT");
    had_old_ = old != nullptr;
    if (had_old_) old_ = old;
    setenv("TPSERVE_CPU_QUANT_DOT", dot, 1);
    cpu::reload_quantized_dot();
  }
  ~QuantDotScope() {
    if (had_old_) setenv("TPSERVE_CPU_QUANT_DOT", old_.c_str(), 1);
    else unsetenv("TPSERVE_CPU_QUANT_DOT");
    cpu::reload_quantized_dot();
  }
  QuantDotScope(const QuantDotScope&) = delete;
  QuantDotScope& operator=(const QuantDotScope&) = delete;

 private:
  bool had_old_ = false;
  std::string old_;
};

}  // namespace tpserve::test
