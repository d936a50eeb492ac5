// OpProfiler: wall time per decoder op, on when TPSERVE_PROFILE_OPS=N (N > 0) is set: every N
// forward passes it prints one JSON line to stderr with the mean microseconds per pass of each op
// and of the whole pass, then starts over. Off (the default) it costs one branch per op. On a GPU
// backend ops are asynchronous, so only the CPU backend's figures are op times.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace tpserve {

class OpProfiler {
 public:
  OpProfiler();
  bool enabled() const { return every_ > 0; }

  // Times the enclosing scope as op `name` (a string literal).
  class Scope {
   public:
    Scope(OpProfiler& p, const char* name) : p_(p.enabled() ? &p : nullptr), name_(name) {
      if (p_) start_ = std::chrono::steady_clock::now();
    }
    ~Scope() {
      if (p_) p_->add(name_, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start_).count());
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    OpProfiler* p_;
    const char* name_;
    std::chrono::steady_clock::time_point start_;
  };

  // Called once per forward pass with its wall time (prints every N passes).
  void end_pass(int64_t num_tokens, double pass_us);

 private:
  void add(const char* name, double us) { op_us_[name] += us; }
  int64_t every_ = 0;
  int64_t passes_ = 0;
  double pass_us_ = 0;
  int64_t tokens_ = 0;
  std::map<std::string, double> op_us_;
};

}  // namespace tpserve
