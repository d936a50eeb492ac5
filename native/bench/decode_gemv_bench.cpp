// Roofline of the GEMVs of one batch-1 decode step: the linear layers of the issue-11 246M Llama
// shape (hidden 1024, intermediate 2816, 16 layers, 16 q / 4 kv heads of 64, vocab 32000, bf16),
// each its own weight buffer as in the model, run in the decoder's order. Prints per projection
// kind the time and streaming GB/s, the whole sequence's ms against the bandwidth floor, with the
// q/k/v and gate/up projections unfused (7 GEMVs a layer) and fused (4). Per GEMV the fastest of
// --steps runs counts (sum_of_min_ms; pct_of_floor uses it). Each fused / unfused sequence also
// runs on the weights in the CPU backend's 16-row BF16 tiles ("_tiled", bf16_weight_tiles.h),
// the two layouts alternated --repeats times (best kept). --rows M: M x rows (batch M decode).
// JSON on stdout.
// Run: native/build/decode_gemv_bench [--steps N] [--repeats R] [--rows M] [--huge-pages]
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "kernels/cpu/linear.h"
#include "kernels/cpu/linear_quantized.h"
#include "tpserve/bf16_weight_tiles.h"
#include "tpserve/bandwidth.h"
#include "tpserve/thread_pool.h"

using namespace tpserve;

namespace {

struct Proj {
  std::string kind;
  int64_t n, k;
};

// One layer's projections, unfused or fused, then the lm_head once.
std::vector<Proj> step_shapes(bool fused) {
  const int64_t H = 1024, I = 2816, Q = 1024, KV = 256, L = 16, V = 32000;
  std::vector<Proj> layer = fused ? std::vector<Proj>{{"qkv", Q + 2 * KV, H}, {"o", H, Q}, {"gate_up", 2 * I, H}, {"down", H, I}}
                                  : std::vector<Proj>{{"q", Q, H}, {"k", KV, H}, {"v", KV, H}, {"o", H, Q},
                                                      {"gate", I, H}, {"up", I, H}, {"down", H, I}};
  std::vector<Proj> all;
  for (int64_t l = 0; l < L; l++) all.insert(all.end(), layer.begin(), layer.end());
  all.push_back({"lm_head", V, H});
  return all;
}

// bf16 [n, k] filled with small pseudo-random values; huge: 2 MB pages (MADV_HUGEPAGE).
Tensor weight(int64_t n, int64_t k, uint32_t seed, bool huge) {
  const size_t bytes = static_cast<size_t>(n * k) * 2;
  const size_t mapped = (bytes + (size_t{2} << 20) - 1) & ~((size_t{2} << 20) - 1);
  void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) std::abort();
  if (huge) madvise(p, mapped, MADV_HUGEPAGE);
  std::shared_ptr<void> owner(p, [mapped](void* q) { munmap(q, mapped); });
  auto* w = static_cast<uint16_t*>(p);
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < n * k; i++) {
    s = s * 1664525u + 1013904223u;
    w[i] = float_to_bf16((static_cast<float>(s >> 8) / 16777216.f - 0.5f) * 0.1f);
  }
  return Tensor(p, DType::BF16, {n, k}, Device{}, std::move(owner));
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Result {
  double step_ms = 0;                        // fastest whole step
  double sum_of_min_ms = 0;                  // each GEMV's fastest run, summed (robust on a shared machine)
  std::map<std::string, double> kind_ms;     // the same per projection kind
  std::map<std::string, double> kind_bytes;  // bytes per kind per step
};

Result run(bool fused, bool tiled, int64_t rows, int steps, bool huge) {
  std::vector<Proj> shapes = step_shapes(fused);
  std::vector<LinearWeight> ws;
  for (size_t i = 0; i < shapes.size(); i++) {
    Tensor w = weight(shapes[i].n, shapes[i].k, static_cast<uint32_t>(i), huge);
    ws.push_back(tiled ? tile_bf16_weight(w) : LinearWeight(w));
  }
  std::vector<float> x(static_cast<size_t>(4096 * rows)), y(static_cast<size_t>(32000 * rows));
  for (size_t i = 0; i < x.size(); i++) x[i] = 0.01f * static_cast<float>(i % 97) - 0.4f;
  Result r;
  r.step_ms = 1e30;
  std::vector<double> best(shapes.size(), 1e30);
  for (int s = 0; s <= steps; s++) {  // step 0 warms up
    double t0 = now_s();
    for (size_t i = 0; i < shapes.size(); i++) {
      double a = now_s();
      cpu::linear_any(x.data(), ws[i], nullptr, rows, y.data());
      if (s > 0) best[i] = std::min(best[i], now_s() - a);
    }
    if (s > 0) r.step_ms = std::min(r.step_ms, (now_s() - t0) * 1e3);
  }
  for (size_t i = 0; i < shapes.size(); i++) {
    r.kind_bytes[shapes[i].kind] += static_cast<double>(shapes[i].n * shapes[i].k * 2);  // the weight, not the tile padding
    r.kind_ms[shapes[i].kind] += best[i] * 1e3;
    r.sum_of_min_ms += best[i] * 1e3;
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 20, repeats = 3;
  int64_t rows = 1;
  bool huge = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--steps" && i + 1 < argc) steps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--repeats" && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
    else if (a == "--rows" && i + 1 < argc) rows = std::max(1, std::atoi(argv[++i]));
    else if (a == "--huge-pages") huge = true;
    else {
      std::fprintf(stderr, "usage: decode_gemv_bench [--steps N] [--repeats R] [--rows M] [--huge-pages]\n");
      return 2;
    }
  }
  std::fprintf(stderr, "decode_gemv_bench: isa=%s threads=%d huge_pages=%d\n", cpu::linear_isa(),
               default_pool().num_threads(), huge ? 1 : 0);
  const double bw = measure_read_bandwidth_gbps();
  std::printf("{\"isa\": \"%s\", \"threads\": %d, \"huge_pages\": %s, \"rows\": %ld, \"read_bandwidth_gb_per_s\": %.2f",
              cpu::linear_isa(), default_pool().num_threads(), huge ? "true" : "false", static_cast<long>(rows), bw);
  std::map<std::string, Result> best;
  for (int rep = 0; rep < repeats; rep++)
    for (bool fused : {false, true})
      for (bool tiled : {false, true}) {
        std::fprintf(stderr, "repeat %d/%d: %s %s...\n", rep + 1, repeats, fused ? "fused" : "unfused", tiled ? "tiled" : "row-major");
        Result r = run(fused, tiled, rows, steps, huge);
        const std::string key = std::string(fused ? "fused" : "unfused") + (tiled ? "_tiled" : "");
        if (!best.count(key) || r.sum_of_min_ms < best[key].sum_of_min_ms) best[key] = r;
      }
  for (auto& [key, r] : best) {
    double bytes = 0;
    for (auto& [name, b] : r.kind_bytes) bytes += b;
    const double floor_ms = bytes / bw / 1e6;
    std::printf(",\n \"%s\": {\"step_ms\": %.3f, \"sum_of_min_ms\": %.3f, \"bytes_mb\": %.1f, \"floor_ms\": %.3f, "
                "\"pct_of_floor\": %.1f, \"per_kind\": {",
                key.c_str(), r.step_ms, r.sum_of_min_ms, bytes / 1e6, floor_ms, 100.0 * floor_ms / r.sum_of_min_ms);
    bool first = true;
    for (auto& [name, ms] : r.kind_ms) {
      std::printf("%s\"%s\": {\"ms\": %.3f, \"gb_per_s\": %.1f}", first ? "" : ", ", name.c_str(), ms,
                  r.kind_bytes[name] / (ms * 1e6));
      first = false;
    }
    std::printf("}}");
  }
  std::printf("}\n");
  return 0;
}
