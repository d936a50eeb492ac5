// Errors of the native core: exceptions that carry the file and line that raised them.
// The core never calls exit/abort; the binding turns these into rejected Promises.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tpserve {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* file, int line)
      : std::runtime_error(message + " (" + basename(file) + ":" + std::to_string(line) + ")") {}

 private:
  static std::string basename(const char* path) {
    std::string p(path);
    auto pos = p.find("native/");
    return pos == std::string::npos ? p : p.substr(pos + 7);
  }
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& value, const Rest&... rest) {
  os << value;
  append(os, rest...);
}
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  append(os, args...);
  return os.str();
}
}  // namespace detail

}  // namespace tpserve

// TPS_THROW("tensor ", name, " has shape ", shape): throw tpserve::Error with file:line.
#define TPS_THROW(...) throw ::tpserve::Error(::tpserve::detail::concat(__VA_ARGS__), __FILE__, __LINE__)

// TPS_CHECK(cond, "message parts", ...): throw with file:line when cond is false.
#define TPS_CHECK(cond, ...)                 \
  do {                                       \
    if (!(cond)) TPS_THROW(__VA_ARGS__);     \
  } while (0)
