// Benchmark of the CPU kernels: streaming read bandwidth of the machine, linear GEMV (decode) and
// GEMM (prefill) throughput, paged attention decode, and what --batch-invariant costs them. Prints one JSON object on stdout, progress
// on stderr. Run: native/build/kernels_bench [--quick]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/simd.h"
#include "tpserve/thread_pool.h"

using namespace tpserve;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Seconds of the fastest of `reps` runs of fn(rep) after one warm-up: the best run is the one
// least disturbed by other processes on a shared machine (the median is kept in the name's stead
// when the machine is quiet, the two agree).
double time_best(int reps, const std::function<void(int)>& fn) {
  fn(0);
  std::vector<double> t;
  for (int r = 0; r < reps; r++) {
    double t0 = now_s();
    fn(r + 1);
    t.push_back(now_s() - t0);
  }
  std::sort(t.begin(), t.end());
  return t.front();
}

Tensor random_weight(DType dtype, int64_t n, int64_t k, uint32_t seed) {
  Tensor w = Tensor::empty_cpu(dtype, {n, k});
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-0.05f, 0.05f);
  for (int64_t i = 0; i < n * k; i++) {
    float f = dist(rng);
    if (dtype == DType::F32) w.ptr<float>()[i] = f;
    else if (dtype == DType::BF16) w.ptr<uint16_t>()[i] = float_to_bf16(f);
    else w.ptr<uint16_t>()[i] = float_to_f16(f);
  }
  return w;
}

// GB/s of a pool-parallel streaming sum over a buffer far larger than the caches.
double read_bandwidth(size_t bytes) {
  const int64_t n = static_cast<int64_t>(bytes / 4);
  std::vector<float> buf(static_cast<size_t>(n), 1.0f);
  const cpu::VecOps& ops = cpu::vec_ops();
  std::vector<double> partial(64);
  double t = time_best(5, [&](int) {
    default_pool().parallel_for(n, [&](int64_t b, int64_t e) {
      partial[static_cast<size_t>(b * 16 / n)] += ops.sum_squares(buf.data() + b, e - b);
    });
  });
  return static_cast<double>(bytes) / t / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const int64_t N = 4096, K = 4096;
  std::fprintf(stderr, "kernels_bench: isa=%s threads=%d\n", cpu::linear_isa(), default_pool().num_threads());

  std::fprintf(stderr, "measuring read bandwidth...\n");
  const double bw = read_bandwidth(quick ? (size_t(256) << 20) : (size_t(1) << 30));

  // Several weights in rotation so each GEMV streams from memory, not the last-level cache.
  const int num_w = quick ? 4 : 8;
  std::vector<Tensor> wb;
  for (int i = 0; i < num_w; i++) wb.push_back(random_weight(DType::BF16, N, K, 100 + i));
  std::vector<float> x(512 * K), y(512 * N);
  for (size_t i = 0; i < x.size(); i++) x[i] = std::sin(0.001f * static_cast<float>(i));

  std::string gemv_json;
  for (int64_t m : {1, 4, 8}) {
    std::fprintf(stderr, "GEMV bf16 m=%ld...\n", static_cast<long>(m));
    double t = time_best(quick ? 10 : 40, [&](int r) { cpu::linear(x.data(), wb[r % num_w], nullptr, m, y.data()); });
    double gbs = static_cast<double>(N * K * 2) / t / 1e9;
    char line[256];
    std::snprintf(line, sizeof(line), "%s\"m%ld\": {\"ms\": %.3f, \"gb_per_s\": %.2f, \"pct_of_bandwidth\": %.1f}",
                  gemv_json.empty() ? "" : ", ", static_cast<long>(m), t * 1e3, gbs, 100.0 * gbs / bw);
    gemv_json += line;
  }

  std::string gemm_json;
  Tensor wf = random_weight(DType::F32, N, K, 7);
  const char* backends[] = {"blas", "builtin"};
  for (const char* backend : backends) {
#ifndef TPSERVE_WITH_OPENBLAS
    if (std::string(backend) == "blas") continue;
#endif
    setenv("TPSERVE_CPU_GEMM", backend, 1);
    for (DType dt : {DType::BF16, DType::F32}) {
      const Tensor& w = dt == DType::BF16 ? wb[0] : wf;
      const int64_t m = 512;
      std::fprintf(stderr, "GEMM %s %s m=%ld...\n", backend, dtype_name(dt), static_cast<long>(m));
      double t = time_best(quick ? 1 : 3, [&](int) { cpu::linear(x.data(), w, nullptr, m, y.data()); });
      char line[256];
      std::snprintf(line, sizeof(line), "%s\"%s_%s_m512\": {\"ms\": %.1f, \"gflop_per_s\": %.1f}",
                    gemm_json.empty() ? "" : ", ", backend, dtype_name(dt), t * 1e3, 2.0 * m * N * K / t / 1e9);
      gemm_json += line;
    }
  }
  unsetenv("TPSERVE_CPU_GEMM");
  // --batch-invariant's cost: the GEMV kernels at m = 512, side by side with the GEMMs above
  for (DType dt : {DType::BF16, DType::F32}) {
    const Tensor& w = dt == DType::BF16 ? wb[0] : wf;
    const int64_t m = 512;
    std::fprintf(stderr, "GEMM batch-invariant %s m=%ld...\n", dtype_name(dt), static_cast<long>(m));
    double t = time_best(quick ? 1 : 3, [&](int) { cpu::linear(x.data(), w, nullptr, m, y.data(), true); });
    char line[256];
    std::snprintf(line, sizeof(line), ", \"batch_invariant_%s_m512\": {\"ms\": %.1f, \"gflop_per_s\": %.1f}", dtype_name(dt),
                  t * 1e3, 2.0 * m * N * K / t / 1e9);
    gemm_json += line;
  }

  // Attention decode: Seed-OSS-36B shapes at tp=1 (80 q heads, 8 kv heads, head_dim 128),
  // 1024 cached tokens, bf16 cache, block size 16, batch 1 and 8.
  std::string attn_json;
  const int64_t H = 80, KH = 8, D = 128, bs = 16, ctx = 1024;
  for (auto [batch, invariant] : {std::pair<int64_t, bool>{1, false}, {8, false}, {1, true}, {8, true}}) {
    const int64_t blocks_per_seq = ctx / bs;
    KvLayout layout{batch * blocks_per_seq, KH, bs, D};
    std::vector<uint16_t> kc(static_cast<size_t>(layout.num_blocks * KH * bs * D)), vc(kc.size());
    for (size_t i = 0; i < kc.size(); i++) {
      kc[i] = float_to_bf16(std::cos(0.01f * static_cast<float>(i % 977)));
      vc[i] = float_to_bf16(std::sin(0.013f * static_cast<float>(i % 991)));
    }
    std::vector<int32_t> qs(static_cast<size_t>(batch + 1)), lens(static_cast<size_t>(batch), static_cast<int32_t>(ctx)),
        table(static_cast<size_t>(batch * blocks_per_seq));
    for (int64_t s = 0; s <= batch; s++) qs[s] = static_cast<int32_t>(s);
    for (size_t i = 0; i < table.size(); i++) table[i] = static_cast<int32_t>(i);
    AttentionBatch ab{batch, qs.data(), lens.data(), table.data(), blocks_per_seq};
    std::vector<float> q(static_cast<size_t>(batch * H * D), 0.05f), out(q.size());
    std::fprintf(stderr, "attention decode batch=%ld ctx=%ld...\n", static_cast<long>(batch), static_cast<long>(ctx));
    double t = time_best(quick ? 5 : 20, [&](int) {
      cpu::paged_attention(q.data(), kc.data(), vc.data(), DType::BF16, ab, layout, H, 1.0f / std::sqrt(128.0f),
                           out.data(), invariant);
    });
    double gbs = 2.0 * static_cast<double>(kc.size()) * 2 / t / 1e9;
    char line[256];
    std::snprintf(line, sizeof(line), "%s\"%sbatch%ld_ctx1024\": {\"ms\": %.3f, \"kv_gb_per_s\": %.2f}",
                  attn_json.empty() ? "" : ", ", invariant ? "batch_invariant_" : "", static_cast<long>(batch), t * 1e3, gbs);
    attn_json += line;
  }

  std::printf(
      "{\"isa\": \"%s\", \"threads\": %d, \"read_bandwidth_gb_per_s\": %.2f,\n"
      " \"gemv_bf16_4096x4096\": {%s},\n \"gemm_4096x4096\": {%s},\n"
      " \"attention_decode_h80_kv8_d128_bf16\": {%s}}\n",
      cpu::linear_isa(), default_pool().num_threads(), bw, gemv_json.c_str(), gemm_json.c_str(), attn_json.c_str());
  return 0;
}
