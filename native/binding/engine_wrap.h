// EngineWrap: the JS Engine object (ObjectWrap) around tpserve::Engine; step() returns a Promise.
// Steps run one at a time, in call order, back to back on the engine's own SerialRunner thread
// (a step called while another runs follows it at once); dispose() frees the engine explicitly.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include "core/serial_runner.h"
#include "tpserve/engine.h"

namespace tpserve::binding {

struct StepCall;

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function define(Napi::Env env);
  static Napi::Object wrap(Napi::Env env, std::unique_ptr<Engine> engine);
  explicit EngineWrap(const Napi::CallbackInfo& info);
  ~EngineWrap() override;

  Engine* engine() const { return engine_.get(); }
  // JS thread: a step's promise is being settled.
  void step_done(Napi::Env env);

 private:
  Napi::Value step(const Napi::CallbackInfo& info);
  Napi::Value info(const Napi::CallbackInfo& info);
  Napi::Value dispose(const Napi::CallbackInfo& info);

  using StepBatch = std::vector<StepCall*>;
  static void settle_steps(Napi::Env env, Napi::Function, std::nullptr_t*, StepBatch* batch);
  using StepDoneFn = Napi::TypedThreadSafeFunction<std::nullptr_t, StepBatch, &EngineWrap::settle_steps>;
  // The runner's thread, after a step: hands it (and any held before it) to the JS thread, or
  // holds it when the caller allowed that and enough steps are queued behind it.
  void finish_step(StepCall* call, bool hold);

  std::unique_ptr<Engine> engine_;
  // After engine_: destroyed first, so its thread ends before the engine goes.
  std::unique_ptr<SerialRunner> runner_ = std::make_unique<SerialRunner>();
  int num_steps_ = 0;  // called and not settled; only the JS thread touches it
  StepDoneFn step_done_;  // the runner's thread hands finished steps to the JS thread
  StepBatch held_;        // finished steps whose replies wait for a later one; the runner's thread only
};

// loadEngine(options, onProgress?) → Promise<Engine>
Napi::Value load_engine(const Napi::CallbackInfo& info);

}  // namespace tpserve::binding
