// cpu_relax(): the spin-wait hint of the busy loops (thread pool workers, shared-memory
// communicator): PAUSE on x86, YIELD on arm64, a scheduler yield elsewhere.
#pragma once
#include <thread>

namespace tpserve {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#else
  std::this_thread::yield();
#endif
}
}  // namespace tpserve
