// Registration of the tpserve_native addon: loadEngine, createCommId, the Engine class.
#include <napi.h>

#include "binding/engine_wrap.h"
#include "tpserve/backend.h"
#include "tpserve/bandwidth.h"
#include "tpserve/communicator.h"
#include "tpserve/thread_pool.h"

namespace tpserve::binding {
namespace {

// createCommId(device, backend?, host?) → id (see create_comm_id in tpserve/engine.h).
Napi::Value create_comm_id_js(const Napi::CallbackInfo& info) {
  auto arg = [&](size_t i, const char* fallback) {
    return info.Length() > i && info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : std::string(fallback);
  };
  try {
    return Napi::String::New(info.Env(), create_comm_id(arg(0, "cpu"), arg(1, ""), arg(2, "")));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

}  // namespace

// measureBandwidth(bytes?, threads?) → GB/s (synchronous; a benchmark helper).
Napi::Value measure_bandwidth_js(const Napi::CallbackInfo& info) {
  double bytes = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : double(1 << 30);
  if (info.Length() > 1 && info[1].IsNumber()) set_num_threads(info[1].As<Napi::Number>().Int32Value());
  try {
    return Napi::Number::New(info.Env(), measure_read_bandwidth_gbps(static_cast<size_t>(bytes)));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("Engine", EngineWrap::define(env));
  exports.Set("loadEngine", Napi::Function::New(env, load_engine, "loadEngine"));
  exports.Set("createCommId", Napi::Function::New(env, create_comm_id_js, "createCommId"));
  exports.Set("measureBandwidth", Napi::Function::New(env, measure_bandwidth_js, "measureBandwidth"));
  exports.Set("cudaCompiled", Napi::Boolean::New(env, cuda_compiled()));
  exports.Set("glooCompiled", Napi::Boolean::New(env, gloo_compiled()));
  return exports;
}

}  // namespace tpserve::binding

static Napi::Object InitTpserve(Napi::Env env, Napi::Object exports) { return tpserve::binding::init(env, exports); }

NODE_API_MODULE(tpserve_native, InitTpserve)
