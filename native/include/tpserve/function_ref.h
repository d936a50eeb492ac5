// FunctionRef<R(Args...)>: a non-owning reference to a callable, two pointers, for the thread
// pool's jobs. Written here because std::function heap-allocates a lambda of more than 16 bytes
// of captures and adds a load through that copy at every call. When a pool thread runs a job, each
// such load is a cache line the calling core has just written: ~0.25 µs a line between this
// host's cores (docs/benchmarks.md). C++26's std::function_ref is the same thing. Like a
// reference, it must not outlive the callable: the pool takes it for the length of one call.
#pragma once
#include <type_traits>
#include <utility>

namespace tpserve {

template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef> &&
                                              std::is_invocable_r_v<R, const F&, Args...>>>
  FunctionRef(const F& f) noexcept  // NOLINT(google-explicit-constructor): binds like a reference
      : object_(static_cast<const void*>(&f)), call_([](const void* o, Args... args) -> R {
          return (*static_cast<const F*>(o))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  const void* object_;
  R (*call_)(const void*, Args...);
};

}  // namespace tpserve
