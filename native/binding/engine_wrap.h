// EngineWrap: the JS Engine object (ObjectWrap) around tpserve::Engine; step() runs on a worker
// thread and returns a Promise. One step at a time per engine; dispose() frees it explicitly.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>

#include "tpserve/engine.h"

namespace tpserve::binding {

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function define(Napi::Env env);
  static Napi::Object wrap(Napi::Env env, std::unique_ptr<Engine> engine);
  explicit EngineWrap(const Napi::CallbackInfo& info);

  Engine* engine() const { return engine_.get(); }
  void set_busy(bool busy) { busy_ = busy; }

 private:
  Napi::Value step(const Napi::CallbackInfo& info);
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);

  std::unique_ptr<Engine> engine_;
  std::atomic<bool> busy_{false};
};

// loadEngine(options, onProgress?) → Promise<Engine>
Napi::Value load_engine(const Napi::CallbackInfo& info);

}  // namespace tpserve::binding
