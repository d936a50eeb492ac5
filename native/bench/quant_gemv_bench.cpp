// Benchmark of the quantized linear kernels alone on the 246M Llama shapes of issue 11 as the
// engine runs them (fused qkv 1536x1024, o 1024x1024, fused gate_up 5632x1024, down 1024x2816,
// lm_head 32000x1024): for bf16 and each quantized format and decode path, m = 1 GB/s of weight
// bytes against the read bandwidth measured in the same run, and m = 8 / 32 / 128 µs.
// Variants: int8 / int4 in the layout the CPU backend loads them in (cpu_weight_layout: the
// 16-row VNNI tiles), *_rows the row-major layout on its VNNI kernels, *_float the fp32
// dequantizing kernels (TPSERVE_CPU_QUANT_DOT=float), fp8 on the bf16 dot products.
// Prints one JSON object on stdout, progress on stderr.
// --in-cache: one copy of each weight, so that it stays in the caches: the kernels' compute
// ceiling (GB/s they could stream if memory kept up). --only a,b: those variants only.
// Run: native/build/quant_gemv_bench [--quick] [--in-cache] [--threads N] [--only int8,int4]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/linear.h"
#include "kernels/cpu/linear_quantized.h"
#include "tpserve/bandwidth.h"
#include "tpserve/thread_pool.h"

using namespace tpserve;

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double time_best(int reps, const std::function<void(int)>& fn) {
  fn(0);
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    const double t0 = now_s();
    fn(r + 1);
    best = std::min(best, now_s() - t0);
  }
  return best;
}

Tensor random_bf16(int64_t n, int64_t k, uint32_t seed) {
  Tensor w = Tensor::empty_cpu(DType::BF16, {n, k});
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, 0.02f);
  for (int64_t i = 0; i < n * k; i++) w.ptr<uint16_t>()[i] = float_to_bf16(dist(rng));
  return w;
}

struct Shape {
  const char* name;
  int64_t n, k;
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, in_cache = false;
  std::string only;
  for (int a = 1; a < argc; a++) {
    quick = quick || std::string(argv[a]) == "--quick";
    in_cache = in_cache || std::string(argv[a]) == "--in-cache";
    if (std::string(argv[a]) == "--threads" && a + 1 < argc) set_num_threads(std::atoi(argv[++a]));
    if (std::string(argv[a]) == "--only" && a + 1 < argc) only = "," + std::string(argv[++a]) + ",";
  }
  std::fprintf(stderr, "quant_gemv_bench: isa=%s threads=%d\n", cpu::linear_isa(), default_pool().num_threads());
  const double bw = measure_read_bandwidth_gbps(quick ? (size_t(256) << 20) : (size_t(1) << 30));
  std::fprintf(stderr, "read bandwidth %.1f GB/s\n", bw);
  const Shape shapes[] = {{"qkv", 1536, 1024}, {"o", 1024, 1024}, {"gate_up", 5632, 1024}, {"down", 1024, 2816},
                          {"lm_head", 32000, 1024}};
  std::vector<float> x(128 * 2816), y(128 * 32000);
  for (size_t i = 0; i < x.size(); i++) x[i] = std::sin(0.01f * static_cast<float>(i));
  struct Variant {
    const char* name;
    WeightFormat format;
    const char* dot;
    bool engine_layout;  // as the CPU backend loads it (cpu_weight_layout)
  };
  const Variant variants[] = {{"bf16", WeightFormat::Float, "float", false},     {"int8", WeightFormat::Int8, "low", true},
                              {"int8_rows", WeightFormat::Int8, "low", false},   {"int8_float", WeightFormat::Int8, "float", false},
                              {"int4", WeightFormat::Int4, "low", true},         {"int4_rows", WeightFormat::Int4, "low", false},
                              {"int4_float", WeightFormat::Int4, "float", false}, {"fp8", WeightFormat::Fp8, "low", true},
                              {"fp8_float", WeightFormat::Fp8, "float", false}};
  std::string json;
  for (const Shape& s : shapes) {
    // enough copies in rotation that each pass streams from memory, not the last-level cache
    const int copies =
        in_cache ? 1 : static_cast<int>(std::clamp<int64_t>(int64_t{256} * 1024 * 1024 / (s.n * s.k * 2), 1, 64));
    std::vector<Tensor> bf16;
    for (int c = 0; c < copies; c++) bf16.push_back(random_bf16(s.n, s.k, 7 + c));
    std::string shape_json;
    for (const Variant& v : variants) {
      if (!only.empty() && only.find("," + std::string(v.name) + ",") == std::string::npos) continue;
      setenv("TPSERVE_CPU_QUANT_DOT", v.dot, 1);
      cpu::reload_quantized_dot();
      std::vector<LinearWeight> w;
      for (const Tensor& t : bf16) {
        if (v.format == WeightFormat::Float) w.push_back(LinearWeight(t));
        else if (v.engine_layout) w.push_back(cpu::cpu_weight_layout(quantize_weight(t, v.format)));
        else w.push_back(quantize_weight(t, v.format));
      }
      const double bytes = static_cast<double>(w[0].nbytes());
      std::fprintf(stderr, "%s %s...\n", s.name, v.name);
      auto run = [&](int64_t m) {
        return time_best(quick ? 5 : 30, [&](int r) { cpu::linear_any(x.data(), w[r % copies], nullptr, m, y.data()); });
      };
      const double t1 = run(1);
      char line[512];
      std::snprintf(line, sizeof(line),
                    "%s\"%s\": {\"bytes\": %.0f, \"m1_us\": %.1f, \"m1_gb_per_s\": %.2f, \"m1_pct_of_bandwidth\": %.1f, "
                    "\"m8_us\": %.1f, \"m32_us\": %.1f, \"m128_us\": %.1f}",
                    shape_json.empty() ? "" : ", ", v.name, bytes, t1 * 1e6, bytes / t1 / 1e9, 100.0 * bytes / t1 / 1e9 / bw,
                    run(8) * 1e6, run(32) * 1e6, run(128) * 1e6);
      shape_json += line;
    }
    json += std::string(json.empty() ? "" : ", ") + "\"" + s.name + "\": {" + shape_json + "}";
  }
  unsetenv("TPSERVE_CPU_QUANT_DOT");
  std::printf("{\"isa\": \"%s\", \"threads\": %d, \"in_cache\": %s, \"bandwidth_gb_per_s\": %.2f, \"shapes\": {%s}}\n",
              cpu::linear_isa(), default_pool().num_threads(), in_cache ? "true" : "false", bw, json.c_str());
  return 0;
}
