// JS <-> core struct conversion for the addon (validation of shapes and types lives in TS;
// this layer only refuses what it cannot represent).
#include "binding/convert.h"

#include <cstring>

namespace tpserve::binding {
namespace {

double number_or(const Napi::Object& o, const char* key, double fallback) {
  if (!o.Has(key)) return fallback;
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("'") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::string string_or(const Napi::Object& o, const char* key, const std::string& fallback) {
  if (!o.Has(key)) return fallback;
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("'") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Array array_at(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return Napi::Array::New(o.Env());
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string("'") + key + "' must be an array");
  return v.As<Napi::Array>();
}

std::vector<int32_t> int_array(const Napi::Object& o, const char* key) {
  Napi::Array a = array_at(o, key);
  std::vector<int32_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("'") + key + "' must hold numbers");
    out[i] = v.As<Napi::Number>().Int32Value();
  }
  return out;
}

uint64_t seq_id_of(const Napi::Object& o) {
  double id = number_or(o, "seqId", -1);
  if (id < 0) throw Napi::TypeError::New(o.Env(), "'seqId' must be a non-negative number");
  return static_cast<uint64_t>(id);
}

SamplingParams to_sampling_params(const Napi::Object& o, bool* has_seed) {
  SamplingParams p;
  p.temperature = static_cast<float>(number_or(o, "temperature", 1.0));
  p.top_k = static_cast<int32_t>(number_or(o, "topK", 0));
  p.top_p = static_cast<float>(number_or(o, "topP", 1.0));
  p.min_p = static_cast<float>(number_or(o, "minP", 0.0));
  p.repetition_penalty = static_cast<float>(number_or(o, "repetitionPenalty", 1.0));
  p.presence_penalty = static_cast<float>(number_or(o, "presencePenalty", 0.0));
  p.frequency_penalty = static_cast<float>(number_or(o, "frequencyPenalty", 0.0));
  p.num_top_logprobs = static_cast<int32_t>(number_or(o, "numTopLogprobs", -1));
  p.vocab_limit = static_cast<int32_t>(number_or(o, "vocabLimit", 0));
  double seed = number_or(o, "seed", -1);
  *has_seed = seed >= 0;
  p.seed = *has_seed ? static_cast<uint64_t>(seed) : 0;
  return p;
}

}  // namespace

EngineOptions to_engine_options(const Napi::Object& o) {
  EngineOptions e;
  e.model_dir = string_or(o, "modelDir", "");
  if (e.model_dir.empty()) throw Napi::TypeError::New(o.Env(), "'modelDir' is required");
  e.device = string_or(o, "device", "cpu");
  e.device_index = static_cast<int>(number_or(o, "deviceIndex", 0));
  e.weight_dtype = string_or(o, "dtype", "auto");
  e.kv_dtype = string_or(o, "kvCacheDtype", "auto");
  e.quantization = string_or(o, "quantization", "none");
  e.quantize_lm_head = o.Has("quantizeLmHead") && o.Get("quantizeLmHead").ToBoolean().Value();
  e.kv_block_size = static_cast<int64_t>(number_or(o, "kvBlockSize", 16));
  e.num_kv_blocks = static_cast<int64_t>(number_or(o, "numKvBlocks", 0));
  e.kv_cache_bytes = static_cast<int64_t>(number_or(o, "kvCacheBytes", 0));
  e.num_threads = static_cast<int>(number_or(o, "numThreads", 0));
  e.batch_invariant = o.Has("batchInvariant") && o.Get("batchInvariant").ToBoolean().Value();
  e.tp_rank = static_cast<int>(number_or(o, "tpRank", 0));
  e.tp_size = static_cast<int>(number_or(o, "tpSize", 1));
  e.comm_id = string_or(o, "commId", "");
  return e;
}

StepInput to_step_input(const Napi::Object& o) {
  StepInput in;
  in.step_id = static_cast<uint64_t>(number_or(o, "stepId", 0));
  Napi::Array news = array_at(o, "newSequences");
  for (uint32_t i = 0; i < news.Length(); i++) {
    Napi::Object n = news.Get(i).As<Napi::Object>();
    NewSequence ns;
    ns.seq_id = seq_id_of(n);
    Napi::Value params = n.Get("params");
    Napi::Object po = params.IsObject() ? params.As<Napi::Object>() : Napi::Object::New(o.Env());
    ns.params = to_sampling_params(po, &ns.has_seed);
    ns.num_prompt_tokens = static_cast<int64_t>(number_or(n, "numPromptTokens", 0));
    ns.prompt_tokens = int_array(n, "promptTokens");
    in.new_sequences.push_back(std::move(ns));
  }
  Napi::Array sched = array_at(o, "scheduled");
  for (uint32_t i = 0; i < sched.Length(); i++) {
    Napi::Object s = sched.Get(i).As<Napi::Object>();
    ScheduledSequence ss;
    ss.seq_id = seq_id_of(s);
    ss.tokens = int_array(s, "tokens");
    ss.start_pos = static_cast<int64_t>(number_or(s, "startPos", 0));
    ss.new_block_ids = int_array(s, "newBlockIds");
    ss.sample = s.Has("sample") && s.Get("sample").ToBoolean().Value();
    std::string mode = string_or(s, "logits", "none");
    ss.logits = mode == "all" ? LogitsMode::All : mode == "last" ? LogitsMode::Last : LogitsMode::None;
    if (s.Has("tokenBitmask") && s.Get("tokenBitmask").IsTypedArray()) {
      Napi::Uint32Array mask = s.Get("tokenBitmask").As<Napi::Uint32Array>();
      ss.token_bitmask.assign(mask.Data(), mask.Data() + mask.ElementLength());
    }
    in.scheduled.push_back(std::move(ss));
  }
  Napi::Array fin = array_at(o, "finished");
  for (uint32_t i = 0; i < fin.Length(); i++)
    in.finished.push_back(static_cast<uint64_t>(fin.Get(i).As<Napi::Number>().DoubleValue()));
  in.share_samples = o.Has("shareSamples") && o.Get("shareSamples").ToBoolean().Value();
  return in;
}

Napi::Object from_step_output(Napi::Env env, StepOutput& out) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("stepId", Napi::Number::New(env, static_cast<double>(out.step_id)));
  Napi::Array samples = Napi::Array::New(env, out.samples.size());
  for (size_t i = 0; i < out.samples.size(); i++) {
    const SampledToken& s = out.samples[i];
    Napi::Object so = Napi::Object::New(env);
    so.Set("seqId", Napi::Number::New(env, static_cast<double>(s.seq_id)));
    so.Set("token", Napi::Number::New(env, s.result.token));
    so.Set("logprob", Napi::Number::New(env, s.result.logprob));
    Napi::Array top = Napi::Array::New(env, s.result.top_logprobs.size());
    for (size_t k = 0; k < s.result.top_logprobs.size(); k++) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(uint32_t{0}, Napi::Number::New(env, s.result.top_logprobs[k].first));
      pair.Set(uint32_t{1}, Napi::Number::New(env, s.result.top_logprobs[k].second));
      top.Set(static_cast<uint32_t>(k), pair);
    }
    so.Set("topLogprobs", top);
    samples.Set(static_cast<uint32_t>(i), so);
  }
  o.Set("samples", samples);
  Napi::Array logits = Napi::Array::New(env, out.logits.size());
  for (size_t i = 0; i < out.logits.size(); i++) {
    SequenceLogits& l = out.logits[i];
    Napi::Float32Array data = Napi::Float32Array::New(env, l.data.size());
    std::memcpy(data.Data(), l.data.data(), l.data.size() * sizeof(float));
    Napi::Object lo = Napi::Object::New(env);
    lo.Set("seqId", Napi::Number::New(env, static_cast<double>(l.seq_id)));
    lo.Set("numRows", Napi::Number::New(env, static_cast<double>(l.num_rows)));
    lo.Set("data", data);
    logits.Set(static_cast<uint32_t>(i), lo);
  }
  o.Set("logits", logits);
  Napi::Object t = Napi::Object::New(env);
  t.Set("forwardUs", Napi::Number::New(env, out.forward_us));
  t.Set("collectiveUs", Napi::Number::New(env, out.collective_us));
  t.Set("samplingUs", Napi::Number::New(env, out.sampling_us));
  o.Set("timings", t);
  return o;
}

Napi::Object from_engine_info(Napi::Env env, const EngineInfo& info) {
  const ModelConfig& c = info.config;
  Napi::Object o = Napi::Object::New(env);
  o.Set("architecture", c.architecture);
  o.Set("vocabSize", Napi::Number::New(env, static_cast<double>(c.vocab_size)));
  o.Set("hiddenSize", Napi::Number::New(env, static_cast<double>(c.hidden_size)));
  o.Set("numLayers", Napi::Number::New(env, static_cast<double>(c.num_hidden_layers)));
  o.Set("numHeads", Napi::Number::New(env, static_cast<double>(c.num_attention_heads)));
  o.Set("numKvHeads", Napi::Number::New(env, static_cast<double>(c.num_key_value_heads)));
  o.Set("headDim", Napi::Number::New(env, static_cast<double>(c.head_dim)));
  o.Set("maxPositionEmbeddings", Napi::Number::New(env, static_cast<double>(c.max_position_embeddings)));
  Napi::Array eos = Napi::Array::New(env, c.eos_token_ids.size());
  for (size_t i = 0; i < c.eos_token_ids.size(); i++)
    eos.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(c.eos_token_ids[i])));
  o.Set("eosTokenIds", eos);
  o.Set("numKvBlocks", Napi::Number::New(env, static_cast<double>(info.num_kv_blocks)));
  o.Set("kvBlockSize", Napi::Number::New(env, static_cast<double>(info.kv_block_size)));
  o.Set("device", info.device);
  o.Set("tpRank", Napi::Number::New(env, info.tp_rank));
  o.Set("tpSize", Napi::Number::New(env, info.tp_size));
  o.Set("weightBytes", Napi::Number::New(env, static_cast<double>(info.weight_bytes)));
  o.Set("decodeBytesPerToken", Napi::Number::New(env, static_cast<double>(info.decode_bytes_per_token)));
  return o;
}

}  // namespace tpserve::binding
