// Conversions between JS values and the core's plain structs. Inputs are fully copied on the
// main thread before any work runs on a worker thread.
#pragma once
#include <napi.h>

#include "tpserve/engine.h"

namespace tpserve::binding {

EngineOptions to_engine_options(const Napi::Object& obj);
StepInput to_step_input(const Napi::Object& obj);
Napi::Object from_step_output(Napi::Env env, StepOutput& out);
Napi::Object from_engine_info(Napi::Env env, const EngineInfo& info);

}  // namespace tpserve::binding
