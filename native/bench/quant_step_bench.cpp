// The GEMVs of one batch-1 decode step of the issue-11 246M Llama shape, per weight format, in one
// run: 16 layers of the fused projections (qkv 1536x1024, o 1024x1024, gate_up 5632x1024, down
// 1024x2816) and the lm_head (32000x1024), each its own weight buffer in the layout the CPU backend
// loads it in (bf16: its 16-row tiles, tile_bf16_weight; quantized: cpu_weight_layout), run in the
// decoder's order with one activation vector each.
// Per format and projection kind: the fastest of --steps runs per GEMV summed (sum_of_min_ms,
// robust on a shared machine), GB/s of weight bytes, and the whole sequence's ms against the
// bandwidth floor of the read bandwidth probed in the same run. JSON on stdout.
// Formats: bf16, int8, int4, fp8, and int8_rows / int4_rows (the row-major layout, no tiles).
// --interleave: the formats' steps alternate, one whole step each, in the order A B C C B A over and
// over, so that a host whose bandwidth drifts weighs on each format alike; prints per format the
// mean and median step and its speed-up over the first format's mean (the ratio the issue's
// targets are about, measured without the ops between the GEMVs).
// Run: native/build/quant_step_bench [--steps N] [--formats bf16,int8,int4,fp8] [--interleave]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "kernels/cpu/linear.h"
#include "kernels/cpu/linear_quantized.h"
#include "tpserve/bandwidth.h"
#include "tpserve/bf16_weight_tiles.h"
#include "tpserve/host_arena.h"
#include "tpserve/thread_pool.h"

using namespace tpserve;

namespace {

struct Proj {
  const char* kind;
  int64_t n, k;
};

std::vector<Proj> step_shapes() {
  std::vector<Proj> all;
  for (int l = 0; l < 16; l++)
    for (const Proj& p : {Proj{"qkv", 1536, 1024}, Proj{"o", 1024, 1024}, Proj{"gate_up", 5632, 1024}, Proj{"down", 1024, 2816}})
      all.push_back(p);
  all.push_back({"lm_head", 32000, 1024});
  return all;
}

// A bf16 [n, k] weight of small values from a linear congruential sequence.
Tensor bf16_weight(int64_t n, int64_t k, uint32_t seed) {
  Tensor w = Tensor::empty_cpu(DType::BF16, {n, k});
  uint32_t s = seed * 2654435761u + 7;
  for (int64_t i = 0; i < n * k; i++) {
    s = s * 1664525u + 1013904223u;
    w.ptr<uint16_t>()[i] = float_to_bf16((static_cast<float>(s >> 8) / 16777216.f - 0.5f) * 0.08f);
  }
  return w;
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// The step's weights in one format, in the layout the CPU backend loads them in, back to back in a
// huge-page arena as the backend uploads them (on buffers of their own, the weights under 2 MiB
// would sit on 4 KiB pages: see host_arena.h).
std::vector<LinearWeight> step_weights(const std::string& name, const std::vector<Proj>& shapes) {
  // int8_rows / int4_rows: the row-major layout on its own VNNI kernels (before the tiles)
  const bool rows = name.size() > 5 && name.compare(name.size() - 5, 5, "_rows") == 0;
  std::fprintf(stderr, "%s: quantizing...\n", name.c_str());
  HostArena arena;  // its chunks live as long as the tensors carved out of them
  std::vector<LinearWeight> ws;
  for (size_t i = 0; i < shapes.size(); i++) {
    Tensor t = bf16_weight(shapes[i].n, shapes[i].k, static_cast<uint32_t>(i));
    if (rows) {
      ws.push_back(quantize_weight(t, parse_quantization(name.substr(0, name.size() - 5))));
      continue;
    }
    const LinearWeight quantized = name == "bf16" ? LinearWeight(t) : quantize_weight(t, parse_quantization(name));
    HostArenaScope in(&arena);
    ws.push_back(name == "bf16" ? tile_bf16_weight(t) : cpu::cpu_weight_layout(quantized));
  }
  return ws;
}

double step_bytes(const std::vector<LinearWeight>& ws) {
  double bytes = 0;
  for (const LinearWeight& w : ws) bytes += static_cast<double>(w.nbytes());
  return bytes;
}

// One format after the other: per GEMV the fastest of `steps` runs.
std::string sequential_json(const std::vector<std::string>& names, const std::vector<Proj>& shapes, int steps,
                            double bw, const float* x, float* y) {
  std::string json;
  for (const std::string& name : names) {
    const std::vector<LinearWeight> ws = step_weights(name, shapes);
    std::vector<double> best(shapes.size(), 1e30);
    double step_ms = 1e30;
    for (int s = 0; s <= steps; s++) {  // step 0 warms up
      const double t0 = now_s();
      for (size_t i = 0; i < shapes.size(); i++) {
        const double a = now_s();
        cpu::linear_any(x, ws[i], nullptr, 1, y);
        if (s > 0) best[i] = std::min(best[i], now_s() - a);
      }
      if (s > 0) step_ms = std::min(step_ms, (now_s() - t0) * 1e3);
    }
    std::map<std::string, double> kind_ms, kind_bytes;
    double sum_ms = 0;
    for (size_t i = 0; i < shapes.size(); i++) {
      kind_ms[shapes[i].kind] += best[i] * 1e3;
      kind_bytes[shapes[i].kind] += static_cast<double>(ws[i].nbytes());
      sum_ms += best[i] * 1e3;
    }
    const double bytes = step_bytes(ws), floor_ms = bytes / bw / 1e6;
    char head[256];
    std::snprintf(head, sizeof(head),
                  "%s\"%s\": {\"step_ms\": %.3f, \"sum_of_min_ms\": %.3f, \"bytes_mb\": %.1f, \"floor_ms\": %.3f, "
                  "\"pct_of_floor\": %.1f, \"per_kind\": {",
                  json.empty() ? "" : ",\n ", name.c_str(), step_ms, sum_ms, bytes / 1e6, floor_ms, 100.0 * floor_ms / sum_ms);
    json += head;
    bool first = true;
    for (auto& [kind, ms] : kind_ms) {
      char item[128];
      std::snprintf(item, sizeof(item), "%s\"%s\": {\"ms\": %.3f, \"gb_per_s\": %.1f}", first ? "" : ", ", kind.c_str(), ms,
                    kind_bytes[kind] / (ms * 1e6));
      json += item;
      first = false;
    }
    json += "}}";
  }
  return json;
}

// All formats' weights at once, their whole steps alternated A B C C B A: 2 x `steps` steps each.
std::string interleaved_json(const std::vector<std::string>& names, const std::vector<Proj>& shapes, int steps,
                             double bw, const float* x, float* y) {
  std::vector<std::vector<LinearWeight>> ws;
  for (const std::string& name : names) ws.push_back(step_weights(name, shapes));
  const size_t f = names.size();
  std::vector<std::vector<double>> ms(f);
  for (int s = -1; s < steps; s++) {  // s = -1 warms every format up
    if (s >= 0 && s % 10 == 0) std::fprintf(stderr, "step %d of %d\n", s, steps);
    for (size_t j = 0; j < (s < 0 ? f : 2 * f); j++) {
      const size_t which = j < f ? j : 2 * f - 1 - j;
      const double t0 = now_s();
      for (const LinearWeight& w : ws[which]) cpu::linear_any(x, w, nullptr, 1, y);
      if (s >= 0) ms[which].push_back((now_s() - t0) * 1e3);
    }
  }
  std::string json;
  double base_mean = 0;
  for (size_t i = 0; i < f; i++) {
    std::vector<double> v = ms[i];
    std::sort(v.begin(), v.end());
    double mean = 0;
    for (double d : v) mean += d;
    mean /= static_cast<double>(v.size());
    if (i == 0) base_mean = mean;
    const double bytes = step_bytes(ws[i]), floor_ms = bytes / bw / 1e6;
    char item[320];
    std::snprintf(item, sizeof(item),
                  "%s\"%s\": {\"steps\": %zu, \"mean_ms\": %.3f, \"median_ms\": %.3f, \"bytes_mb\": %.1f, "
                  "\"pct_of_floor\": %.1f, \"speedup_over_%s\": %.3f}",
                  json.empty() ? "" : ",\n ", names[i].c_str(), v.size(), mean, v[v.size() / 2], bytes / 1e6,
                  100.0 * floor_ms / mean, names[0].c_str(), base_mean / mean);
    json += item;
  }
  return json;
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 20;
  bool interleave = false;
  std::string formats = "bf16,int8,int4,fp8";
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc) steps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--formats" && i + 1 < argc) formats = argv[++i];
    else if (a == "--interleave") interleave = true;
    else {
      std::fprintf(stderr, "usage: quant_step_bench [--steps N] [--formats bf16,int8,int4,fp8] [--interleave]\n");
      return 2;
    }
  }
  std::vector<std::string> names;
  for (size_t at = 0; at < formats.size();) {
    const size_t end = std::min(formats.find(',', at), formats.size());
    names.push_back(formats.substr(at, end - at));
    at = end + 1;
  }
  std::fprintf(stderr, "quant_step_bench: isa=%s threads=%d\n", cpu::linear_isa(), default_pool().num_threads());
  const double bw = measure_read_bandwidth_gbps();
  const std::vector<Proj> shapes = step_shapes();
  std::vector<float> x(2816), y(32000);
  for (size_t i = 0; i < x.size(); i++) x[i] = 0.01f * static_cast<float>(i % 97) - 0.4f;
  const std::string json = interleave ? interleaved_json(names, shapes, steps, bw, x.data(), y.data())
                                      : sequential_json(names, shapes, steps, bw, x.data(), y.data());
  std::printf("{\"isa\": \"%s\", \"threads\": %d, \"read_bandwidth_gb_per_s\": %.2f, \"interleaved\": %s,\n \"formats\": {%s}}\n",
              cpu::linear_isa(), default_pool().num_threads(), bw, interleave ? "true" : "false", json.c_str());
  return 0;
}
