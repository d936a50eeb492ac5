// Quantized linear on one GPU, Seed-OSS-36B shape (one decoder layer's seven linears: q 10240, k/v
// 1024, o 5120 x 10240, gate/up 27648, down 5120 x 27648; 0.27 to 1.1 GB, far past the L2):
// bf16 (cuBLASLt) against int8, int4 (g128), fp8 per channel and fp8 per tensor (the FP8 cuBLASLt
// GEMM at prefill on sm_89+) weights in the device layout of
// kernels/cuda/weight_upload.h, through the CUDA backend's linear. Per format: decode GEMV at
// m = 1, 8 and 32 as GB/s of weight bytes and % of the device copy bandwidth (the floor), and the
// prefill path (m = 512: dequantize + bf16 GEMM) in TFLOP/s. Codes and scales are random device
// fills (timing only; correctness is tests/cuda_quantized_test.cpp). Prints a table last; JSON to
// --json F or $OUT/quantized_linear_bench.json.
//   quantized_linear_bench [--reps 20] [--json F]     exits 77 without CUDA or without a GPU
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tpserve/backend.h"

#ifndef TPSERVE_WITH_CUDA
int main() {
  std::printf("quantized_linear_bench: this build has no CUDA (nvcc was not found): skipped\n");
  return 77;
}
#else
#include <cuda_runtime_api.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cuda_timing.h"
#include "engine/cuda_backend.h"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/random_fill.h"
#include "kernels/cuda/weight_upload.h"

using namespace tpserve;

namespace {

struct Shape {
  const char* name;
  int64_t n, k;
};
const Shape kLayer[] = {{"q", 10240, 5120}, {"k", 1024, 5120},     {"v", 1024, 5120},   {"o", 5120, 10240},
                        {"gate", 27648, 5120}, {"up", 27648, 5120}, {"down", 5120, 27648}};

Tensor filled(Backend& be, cudaStream_t s, DType dt, std::vector<int64_t> shape, uint64_t seed, float lo, float hi) {
  Tensor t = be.alloc(dt, std::move(shape));
  // quantized storage: random bytes from a float fill of the same size (any int8 / int4 code is valid)
  const bool bytes = dt == DType::I8 || dt == DType::U8 || dt == DType::F8_E4M3;
  cuda::random_fill(t.data(), bytes ? DType::F32 : dt, bytes ? t.numel() / 4 : t.numel(), seed, lo, hi, s);
  return t;
}

// A device-layout weight of `format` (bf16 for Float) with random codes and scales.
// per_tensor: one scale for the whole weight (an FP8 checkpoint's; takes the FP8 GEMM on sm_89+).
LinearWeight random_weight(Backend& be, cudaStream_t s, WeightFormat format, bool per_tensor, const Shape& sh,
                           uint64_t seed) {
  if (format == WeightFormat::Float) return filled(be, s, DType::BF16, {sh.n, sh.k}, seed, -0.02f, 0.02f);
  LinearWeight w;
  w.format = format;
  w.rows = sh.n;
  w.cols = sh.k;
  w.group_size = format == WeightFormat::Int4 ? 128 : 0;
  const int64_t ld = cuda::quantized_row_bytes(w);
  // fp8: floats of [1, 1.5) have no 0x7f / 0xff in their two high bytes (fewer e4m3 NaN codes)
  w.weight = filled(be, s, format == WeightFormat::Int8 ? DType::I8 : format == WeightFormat::Fp8 ? DType::F8_E4M3 : DType::U8,
                    {sh.n, ld}, seed, 1.f, 1.5f);
  const int64_t ng = format == WeightFormat::Int4 ? sh.k / 128 : 1;
  w.scales = filled(be, s, DType::F32, {sh.n, ng}, seed + 1, 1e-3f, per_tensor ? 1e-3f : 2e-3f);
  w.per_tensor_scale = per_tensor;
  if (format == WeightFormat::Int4) w.zeros = filled(be, s, DType::F32, {sh.n, ng}, seed + 2, 7.f, 8.f);
  return w;
}

int run(int reps, const std::string& json_path) {
  std::unique_ptr<Backend> be;
  try {
    be = make_cuda_backend(0);
  } catch (const Error& e) {
    std::printf("quantized_linear_bench: %s: skipped\n", e.what());
    return 77;
  }
  cudaStream_t s = cuda::backend_stream(*be);
  nlohmann::json out;
  out["device"] = be->describe();
  std::fprintf(stderr, "device: %s\n", be->describe().c_str());

  const size_t copy_bytes = size_t{1} << 30;
  Tensor ca = filled(*be, s, DType::F32, {static_cast<int64_t>(copy_bytes / 4)}, 99, -1, 1);
  Tensor cb = be->alloc(DType::F32, {static_cast<int64_t>(copy_bytes / 4)});
  const double copy_gbs = 2.0 * static_cast<double>(copy_bytes) / bench::time_events(s, 2, reps, [&] {
    TPS_CUDA_CHECK(cudaMemcpyAsync(cb.data(), ca.data(), copy_bytes, cudaMemcpyDeviceToDevice, s));
  }) / 1e9;
  ca = Tensor();
  cb = Tensor();
  out["copy_gbs"] = copy_gbs;

  const int64_t kPrefill = 512, kMaxK = 27648;
  Tensor x = filled(*be, s, DType::F32, {kPrefill, kMaxK}, 7, -1, 1);
  Tensor y = be->alloc(DType::F32, {kPrefill, 27648});
  be->reserve_scratch(kPrefill, kMaxK, 128);
  std::vector<std::string> table;
  const std::pair<WeightFormat, bool> formats[] = {{WeightFormat::Float, false}, {WeightFormat::Int8, false},
                                                   {WeightFormat::Int4, false}, {WeightFormat::Fp8, false},
                                                   {WeightFormat::Fp8, true}};
  for (auto [f, per_tensor] : formats) {
    const char* name = f == WeightFormat::Float ? "bf16" : per_tensor ? "fp8/tensor" : weight_format_name(f);
    std::vector<LinearWeight> layer;
    double bytes = 0, flops_per_row = 0;
    uint64_t seed = 100;
    for (const Shape& sh : kLayer) {
      layer.push_back(random_weight(*be, s, f, per_tensor, sh, seed += 10));
      bytes += static_cast<double>(layer.back().nbytes());
      flops_per_row += 2.0 * static_cast<double>(sh.n * sh.k);
    }
    auto pass = [&](int64_t m) {
      for (const LinearWeight& w : layer) be->linear(x.ptr<float>(), w, nullptr, m, y.ptr<float>());
    };
    nlohmann::json r;
    r["weight_bytes"] = bytes;
    char label[16];
    std::snprintf(label, sizeof label, "%-10s", name);
    std::string line = label;
    for (int64_t m : {1, 8, 32}) {
      const double t = bench::time_events(s, 2, reps, [&] { pass(m); });
      const double gbs = bytes / t / 1e9;
      r["decode_m" + std::to_string(m) + "_gbs"] = gbs;
      r["decode_m" + std::to_string(m) + "_pct_of_copy"] = 100.0 * gbs / copy_gbs;
      char buf[96];
      std::snprintf(buf, sizeof buf, "  m=%lld %6.0f GB/s (%3.0f%%)", static_cast<long long>(m), gbs, 100.0 * gbs / copy_gbs);
      line += buf;
    }
    const double tp = bench::time_events(s, 2, std::max(3, reps / 4), [&] { pass(kPrefill); });
    r["prefill_m512_tflops"] = flops_per_row * kPrefill / tp / 1e12;
    char buf[64];
    std::snprintf(buf, sizeof buf, "  prefill m=512 %5.0f TFLOP/s", flops_per_row * kPrefill / tp / 1e12);
    table.push_back(line + buf);
    out["formats"][name] = r;
    std::fprintf(stderr, "%s done\n", name);
  }
  if (!json_path.empty()) std::ofstream(json_path) << out.dump(2) << "\n";
  std::printf("== Quantized linear, Seed-OSS layer shapes (%s; copy %.0f GB/s) ==\n", be->describe().c_str(), copy_gbs);
  std::printf("format      decode GEMV (weight GB/s, %% of copy)       prefill\n");
  for (const std::string& l : table) std::printf("%s\n", l.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 20;
  std::string json;
  if (const char* o = std::getenv("OUT")) json = std::string(o) + "/quantized_linear_bench.json";
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--json" && i + 1 < argc) json = argv[++i];
    else {
      std::fprintf(stderr, "quantized_linear_bench: unknown option %s (options: --reps N, --json F)\n", a.c_str());
      return 2;
    }
  }
  try {
    return run(reps, json);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quantized_linear_bench: %s\n", e.what());
    return 1;
  }
}
#endif
