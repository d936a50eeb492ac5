// Run-time choice of the SIMD path of the CPU kernels (private to src/kernels/cpu and the tests).
// The best path the CPU supports is used unless TPSERVE_CPU_ISA=avx512|avx2|portable asks for a
// lower one; a request above what the CPU supports falls back to the best supported path.
#pragma once
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tpserve/error.h"

namespace tpserve::cpu {

enum class Isa : int { Portable = 0, Avx2 = 1, Avx512 = 2 };

inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Portable: return "portable";
  }
  return "?";
}

// The best path this CPU supports (AVX-512 needs F+BW+VL; AVX2 needs FMA and F16C too).
inline Isa hardware_isa() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) return Isa::Avx2;
#endif
  return Isa::Portable;
}

namespace detail {
inline std::atomic<int>& isa_slot() {
  static std::atomic<int> slot{-1};
  return slot;
}
}  // namespace detail

// Re-reads TPSERVE_CPU_ISA (the tests call this after setenv); returns the path now in use.
inline Isa reload_isa() {
  Isa isa = hardware_isa();
  const char* env = std::getenv("TPSERVE_CPU_ISA");
  if (env && *env) {
    std::string want(env);
    Isa asked;
    if (want == "avx512") asked = Isa::Avx512;
    else if (want == "avx2") asked = Isa::Avx2;
    else if (want == "portable") asked = Isa::Portable;
    else TPS_THROW("TPSERVE_CPU_ISA='", want, "' is not one of avx512, avx2, portable");
    if (static_cast<int>(asked) < static_cast<int>(isa)) isa = asked;
  }
  detail::isa_slot().store(static_cast<int>(isa), std::memory_order_relaxed);
  return isa;
}

// The path the kernels use now (read once, then cached).
inline Isa active_isa() {
  int v = detail::isa_slot().load(std::memory_order_relaxed);
  return v < 0 ? reload_isa() : static_cast<Isa>(v);
}

}  // namespace tpserve::cpu
