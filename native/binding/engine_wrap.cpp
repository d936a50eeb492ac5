// EngineWrap and its AsyncWorkers (load, step). Every Execute() catches every exception and
// turns it into a rejected Promise carrying the core's message (with file:line); a step's
// SequenceError also puts the sequence id on the error (seqId). Steps may be called while one
// runs: each is queued on the engine's SerialRunner when called, so they run in call order on
// that one thread, each starting the moment the one before it ends, and report how long the
// engine sat idle before them (timings.waitUs); the AsyncWorker's thread only waits for it.
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

class StepWorker : public Napi::AsyncWorker {
 public:
  // JS thread: the step joins the engine's queue now, in call order (it may start at once).
  StepWorker(Napi::Env env, EngineWrap* owner, Napi::Object owner_obj, StepInput input)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), owner_(owner), input_(std::move(input)) {
    owner_ref_ = Napi::Persistent(owner_obj);  // keep the engine alive while the step runs
    job_ = owner_->runner().submit([this] { run(); });
  }
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    wait_us_ = owner_->runner().wait(job_);
    if (error_) SetError(*error_);
  }
  void OnOK() override {
    owner_->step_done();
    Napi::Object out = from_step_output(Env(), output_);
    out.Get("timings").As<Napi::Object>().Set("waitUs", Napi::Number::New(Env(), wait_us_));
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override {
    owner_->step_done();
    // a per-sequence validation error names its sequence: err.seqId
    if (failed_seq_id_) e.Value().Set("seqId", Napi::Number::New(Env(), static_cast<double>(*failed_seq_id_)));
    deferred_.Reject(e.Value());
  }

 private:
  // The runner's thread: the step itself; never throws (Execute reports the error).
  void run() {
    try {
      output_ = owner_->engine()->step(input_);
    } catch (const SequenceError& e) {
      failed_seq_id_ = e.seq_id();
      error_ = e.what();
    } catch (const std::exception& e) {
      error_ = e.what();
    } catch (...) {
      error_ = "unknown native error in step";
    }
  }

  Napi::Promise::Deferred deferred_;
  EngineWrap* owner_;
  Napi::ObjectReference owner_ref_;
  StepInput input_;
  std::shared_ptr<SerialRunner::Job> job_;
  double wait_us_ = 0;
  StepOutput output_;
  std::optional<std::string> error_;
  std::optional<uint64_t> failed_seq_id_;
};

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

EngineWrap::EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
  if (pending_engine == nullptr) throw Napi::TypeError::New(info.Env(), "use loadEngine() to create an Engine");
  engine_ = std::move(*pending_engine);
}

Napi::Value EngineWrap::step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!engine_) throw Napi::Error::New(env, "the engine was disposed");
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "step(input) needs an object");
  StepInput input = to_step_input(info[0].As<Napi::Object>());
  num_steps_++;
  auto* worker = new StepWorker(env, this, info.This().As<Napi::Object>(), std::move(input));
  Napi::Promise p = worker->promise();
  worker->Queue();
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
