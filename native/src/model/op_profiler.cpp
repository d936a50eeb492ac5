// OpProfiler (model/op_profiler.h): the TPSERVE_PROFILE_OPS switch and the JSON line it prints.
#include "model/op_profiler.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace tpserve {

OpProfiler::OpProfiler() {
  const char* env = std::getenv("TPSERVE_PROFILE_OPS");
  if (env && *env) every_ = std::max<int64_t>(0, std::atoll(env));
}

void OpProfiler::end_pass(int64_t num_tokens, double pass_us) {
  if (!enabled()) return;
  passes_++;
  pass_us_ += pass_us;
  tokens_ += num_tokens;
  if (passes_ < every_) return;
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(1);
  double ops = 0;
  os << "{\"op_profile\": {\"passes\": " << passes_ << ", \"tokens_per_pass\": " << static_cast<double>(tokens_) / passes_
     << ", \"pass_us\": " << pass_us_ / passes_ << ", \"ops_us\": {";
  bool first = true;
  for (const auto& [name, us] : op_us_) {
    os << (first ? "" : ", ") << "\"" << name << "\": " << us / passes_;
    ops += us;
    first = false;
  }
  os << "}, \"untimed_us\": " << (pass_us_ - ops) / passes_ << "}}\n";
  std::fputs(os.str().c_str(), stderr);
  passes_ = 0;
  pass_us_ = 0;
  tokens_ = 0;
  op_us_.clear();
}

}  // namespace tpserve
