// The GEMVs of one batch-1 decode step of the issue-11 246M Llama shape, per weight format, in one
// run: 16 layers of the fused projections (qkv 1536x1024, o 1024x1024, gate_up 5632x1024, down
// 1024x2816) and the lm_head (32000x1024), each its own weight buffer in the layout the CPU backend
// loads it in (cpu_weight_layout), run in the decoder's order with one activation vector each.
// Per format and projection kind: the fastest of --steps runs per GEMV summed (sum_of_min_ms,
// robust on a shared machine), GB/s of weight bytes, and the whole sequence's ms against the
// bandwidth floor of the read bandwidth probed in the same run. JSON on stdout.
// Formats: bf16, int8, int4, fp8, and int8_rows / int4_rows (the row-major layout, no tiles).
// Run: native/build/quant_step_bench [--steps N] [--formats bf16,int8,int4,fp8]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "kernels/cpu/linear.h"
#include "kernels/cpu/linear_quantized.h"
#include "tpserve/bandwidth.h"
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

}  // namespace

int main(int argc, char** argv) {
  int steps = 20;
  std::string formats = "bf16,int8,int4,fp8";
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc) steps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--formats" && i + 1 < argc) formats = argv[++i];
    else {
      std::fprintf(stderr, "usage: quant_step_bench [--steps N] [--formats bf16,int8,int4,fp8]\n");
      return 2;
    }
  }
  std::fprintf(stderr, "quant_step_bench: isa=%s threads=%d\n", cpu::linear_isa(), default_pool().num_threads());
  const double bw = measure_read_bandwidth_gbps();
  const std::vector<Proj> shapes = step_shapes();
  std::vector<float> x(2816), y(32000);
  for (size_t i = 0; i < x.size(); i++) x[i] = 0.01f * static_cast<float>(i % 97) - 0.4f;
  std::string json;
  for (size_t at = 0; at < formats.size();) {
    const size_t end = std::min(formats.find(',', at), formats.size());
    const std::string name = formats.substr(at, end - at);
    at = end + 1;
    // int8_rows / int4_rows: the row-major layout on its own VNNI kernels (before the tiles)
    const bool rows = name.size() > 5 && name.compare(name.size() - 5, 5, "_rows") == 0;
    std::fprintf(stderr, "%s: quantizing...\n", name.c_str());
    std::vector<LinearWeight> ws;
    for (size_t i = 0; i < shapes.size(); i++) {
      Tensor t = bf16_weight(shapes[i].n, shapes[i].k, static_cast<uint32_t>(i));
      if (name == "bf16") ws.push_back(LinearWeight(t));
      else if (rows) ws.push_back(quantize_weight(t, parse_quantization(name.substr(0, name.size() - 5))));
      else ws.push_back(cpu::cpu_weight_layout(quantize_weight(t, parse_quantization(name))));
    }
    std::vector<double> best(shapes.size(), 1e30);
    double step_ms = 1e30;
    for (int s = 0; s <= steps; s++) {  // step 0 warms up
      const double t0 = now_s();
      for (size_t i = 0; i < shapes.size(); i++) {
        const double a = now_s();
        cpu::linear_any(x.data(), ws[i], nullptr, 1, y.data());
        if (s > 0) best[i] = std::min(best[i], now_s() - a);
      }
      if (s > 0) step_ms = std::min(step_ms, (now_s() - t0) * 1e3);
    }
    std::map<std::string, double> kind_ms, kind_bytes;
    double sum_ms = 0, bytes = 0;
    for (size_t i = 0; i < shapes.size(); i++) {
      kind_ms[shapes[i].kind] += best[i] * 1e3;
      kind_bytes[shapes[i].kind] += static_cast<double>(ws[i].nbytes());
      sum_ms += best[i] * 1e3;
      bytes += static_cast<double>(ws[i].nbytes());
    }
    const double floor_ms = bytes / bw / 1e6;
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
  std::printf("{\"isa\": \"%s\", \"threads\": %d, \"read_bandwidth_gb_per_s\": %.2f,\n \"formats\": {%s}}\n",
              cpu::linear_isa(), default_pool().num_threads(), bw, json.c_str());
  return 0;
}
