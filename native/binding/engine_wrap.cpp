// EngineWrap, its steps and the load AsyncWorker. Every exception of the core becomes a rejected
// Promise carrying its message (with file:line); a step's SequenceError also puts the sequence
// id on the error (seqId). Steps may be called while one runs: each is queued on the engine's
// SerialRunner when called, so they run in call order on that one thread, each starting the
// moment the one before it ends, and report how long the engine sat idle before them
// (timings.waitUs). A finished step goes straight from the runner's thread to the JS thread
// through a thread-safe function: one wake-up per step. (An AsyncWorker per step woke a libuv
// thread to wait for it, then that thread woke the JS thread; on a 2-core host each wake-up lands
// on a core the engine computes on. The engine's idle time between synchronous b1 steps went
// from 185-245 to 131-151 us: docs/benchmarks.md.) A step called with holdReply may have its
// reply held back while at least kHoldWhileQueued steps wait behind it, and delivered with the
// next one handed over: a caller that keeps many steps in flight (generate) then wakes once per
// several steps instead of once per step, and every wake-up of the JS thread costs the engine
// more than its CPU time (cold caches; on 2 cores one engine thread loses its core).
#include "binding/engine_wrap.h"

#include <optional>
#include <string>

#include "binding/convert.h"
#include "tpserve/sequence_error.h"

namespace tpserve::binding {
namespace {

Napi::FunctionReference& constructor() {
  static Napi::FunctionReference ref;
  return ref;
}

}  // namespace

// One step from its call to its settled promise. Made on the JS thread; run() on the runner's
// thread; settle() back on the JS thread through the engine's completion function.
struct StepCall {
  StepCall(Napi::Env env, EngineWrap* owner, Napi::Object owner_obj, StepInput in)
      : deferred(Napi::Promise::Deferred::New(env)), owner(owner), input(std::move(in)) {
    owner_ref = Napi::Persistent(owner_obj);  // keep the engine alive while the step runs
  }

  // The runner's thread: the step itself; never throws (settle() reports the error).
  void run(double idle_us) {
    wait_us = idle_us;
    try {
      output = owner->engine()->step(input);
    } catch (const SequenceError& e) {
      failed_seq_id = e.seq_id();
      error = e.what();
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown native error in step";
    }
  }

  // JS thread.
  void settle(Napi::Env env) {
    owner->step_done(env);
    if (error) {
      Napi::Error e = Napi::Error::New(env, *error);
      // a per-sequence validation error names its sequence: err.seqId
      if (failed_seq_id) e.Value().Set("seqId", Napi::Number::New(env, static_cast<double>(*failed_seq_id)));
      deferred.Reject(e.Value());
      return;
    }
    Napi::Object out = from_step_output(env, output);
    out.Get("timings").As<Napi::Object>().Set("waitUs", Napi::Number::New(env, wait_us));
    deferred.Resolve(out);
  }

  Napi::Promise::Deferred deferred;
  EngineWrap* owner;
  Napi::ObjectReference owner_ref;
  StepInput input;
  double wait_us = 0;
  StepOutput output;
  std::optional<std::string> error;
  std::optional<uint64_t> failed_seq_id;
};

namespace {

struct ProgressEvent {
  std::string stage;
  int64_t done, total;
};

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, EngineOptions options, Napi::Value on_progress)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), options_(std::move(options)) {
    if (on_progress.IsFunction())
      progress_ = Napi::ThreadSafeFunction::New(env, on_progress.As<Napi::Function>(), "tpserve-load-progress", 0, 1);
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      ProgressFn fn = nullptr;
      if (progress_) {
        fn = [this](const std::string& stage, int64_t done, int64_t total) {
          auto* ev = new ProgressEvent{stage, done, total};
          progress_.NonBlockingCall(ev, [](Napi::Env env, Napi::Function cb, ProgressEvent* e) {
            cb.Call({Napi::String::New(env, e->stage), Napi::Number::New(env, static_cast<double>(e->done)),
                     Napi::Number::New(env, static_cast<double>(e->total))});
            delete e;
          });
        };
      }
      engine_ = Engine::load(options_, fn);
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown native error while loading the model");
    }
  }
  void OnOK() override {
    release();
    deferred_.Resolve(EngineWrap::wrap(Env(), std::move(engine_)));
  }
  void OnError(const Napi::Error& e) override {
    release();
    deferred_.Reject(e.Value());
  }

 private:
  void release() {
    if (progress_) progress_.Release();
  }
  Napi::Promise::Deferred deferred_;
  EngineOptions options_;
  Napi::ThreadSafeFunction progress_;
  std::unique_ptr<Engine> engine_;
};

// Hands a freshly loaded engine to the JS constructor.
thread_local std::unique_ptr<Engine>* pending_engine = nullptr;

}  // namespace

Napi::Function EngineWrap::define(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "Engine",
                                  {InstanceMethod("step", &EngineWrap::step), InstanceMethod("info", &EngineWrap::info),
                                   InstanceMethod("dispose", &EngineWrap::dispose)});
  constructor() = Napi::Persistent(fn);
  constructor().SuppressDestruct();
  return fn;
}

Napi::Object EngineWrap::wrap(Napi::Env env, std::unique_ptr<Engine> engine) {
  pending_engine = &engine;
  Napi::Object obj = constructor().New({});
  pending_engine = nullptr;
  return obj;
}

// JS thread: finished steps' promises are settled in call order (env is null when the function
// is torn down with calls still queued, which cannot happen while a step holds the engine alive).
void EngineWrap::settle_steps(Napi::Env env, Napi::Function, std::nullptr_t*, StepBatch* batch) {
  for (StepCall* call : *batch) {
    if (env != nullptr) call->settle(env);
    delete call;
  }
  delete batch;
}

namespace {
// A held reply waits while at least this many steps are queued behind its step, so the JS thread
// has a running step and a queued one to send more before the engine runs dry.
constexpr size_t kHoldWhileQueued = 2;
// At most this many replies are held at once.
constexpr size_t kMaxHeld = 16;
}  // namespace

void EngineWrap::finish_step(StepCall* call, bool hold) {
  held_.push_back(call);
  if (hold && !call->error && held_.size() < kMaxHeld && runner_->queued() >= kHoldWhileQueued) return;
  auto* batch = new StepBatch();
  batch->swap(held_);
  step_done_.NonBlockingCall(batch);  // unbounded queue: never refused
}

EngineWrap::EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
  if (pending_engine == nullptr) throw Napi::TypeError::New(info.Env(), "use loadEngine() to create an Engine");
  engine_ = std::move(*pending_engine);
  step_done_ = StepDoneFn::New(info.Env(), "tpserve-step-done", 0, 1);
  step_done_.Unref(info.Env());  // an idle engine does not keep the process alive
}

EngineWrap::~EngineWrap() {
  runner_.reset();  // no step is queued (each holds this object alive); ends the thread
  step_done_.Release();
}

void EngineWrap::step_done(Napi::Env env) {
  if (--num_steps_ == 0) step_done_.Unref(env);
}

Napi::Value EngineWrap::step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!engine_) throw Napi::Error::New(env, "the engine was disposed");
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "step(input) needs an object");
  StepInput input = to_step_input(info[0].As<Napi::Object>());
  const Napi::Value hold_value = info[0].As<Napi::Object>().Get("holdReply");
  const bool hold = hold_value.IsBoolean() && hold_value.As<Napi::Boolean>().Value();
  if (num_steps_++ == 0) step_done_.Ref(env);  // a step in flight keeps the process alive
  auto* call = new StepCall(env, this, info.This().As<Napi::Object>(), std::move(input));
  Napi::Promise p = call->deferred.Promise();
  runner_->submit([call](double idle_us) { call->run(idle_us); },
                  // after the step's end is taken, so that the idle time of the next step starts there
                  [this, call, hold] { finish_step(call, hold); });
  return p;
}

Napi::Value EngineWrap::info(const Napi::CallbackInfo& info) {
  if (!engine_) throw Napi::Error::New(info.Env(), "the engine was disposed");
  return from_engine_info(info.Env(), engine_->info());
}

Napi::Value EngineWrap::dispose(const Napi::CallbackInfo& info) {
  if (num_steps_ > 0) throw Napi::Error::New(info.Env(), "cannot dispose the engine while a step is running");
  engine_.reset();
  return info.Env().Undefined();
}

Napi::Value load_engine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "loadEngine(options) needs an object");
  EngineOptions options = to_engine_options(info[0].As<Napi::Object>());
  auto* worker = new LoadWorker(env, std::move(options), info.Length() > 1 ? info[1] : env.Undefined());
  Napi::Promise p = worker->promise();
  worker->Queue();
  return p;
}

}  // namespace tpserve::binding
