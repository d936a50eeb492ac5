// Prefill GEMM against the libraries, side by side in one run (issue 11): y[m, n] = x[m, k] . W^T
// on BF16 weights, m prompt tokens, on all cores (the engine's pool; oneDNN's OpenMP threads).
// tpserve's GEMM on row-major and on tiled weights (what the CPU backend loads), OpenBLAS sgemm on
// fp32 panels of the weights (the engine's own fallback off AVX-512, TPSERVE_CPU_GEMM=blas; Debian's
// OpenBLAS is built without sbgemm), and oneDNN's bf16 matmul (AVX512-BF16 dot products; its x is
// bf16 too, so its results are not the engine's: x here is bf16-exact, the same input for all). GFLOP/s of the fastest of --reps runs; JSON on stdout, progress
// on stderr. Shapes: the 246M bench model's gate_up and down, and Seed-OSS-36B's o_proj at tp 1.
// Run: native/build/prefill_gemm_bench [--m 512] [--reps 5]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels/cpu/linear.h"
#include "kernels/cpu/linear_quantized.h"
#include "tpserve/bf16_weight_tiles.h"
#include "tpserve/thread_pool.h"

#ifdef TPSERVE_WITH_DNNL
#include <dnnl.hpp>
#endif

using namespace tpserve;

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double best_of(int reps, const std::function<void()>& fn) {
  fn();  // warm-up (packing buffers, library kernels, page faults)
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    const double t0 = now_s();
    fn();
    best = std::min(best, now_s() - t0);
  }
  return best;
}

std::vector<uint16_t> random_bf16(size_t n, uint32_t seed) {
  std::vector<uint16_t> v(n);
  uint32_t s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    v[i] = float_to_bf16((static_cast<float>(s >> 8) / 16777216.f - 0.5f) * 0.1f);
  }
  return v;
}

struct Shape {
  const char* name;
  int64_t n, k;
};

}  // namespace

int main(int argc, char** argv) {
  int64_t m = 512;
  int reps = 5;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--m" && i + 1 < argc) m = std::max(1, std::atoi(argv[++i]));
    else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: prefill_gemm_bench [--m 512] [--reps 5]\n");
      return 2;
    }
  }
  const int threads = default_pool().num_threads();
#ifdef TPSERVE_WITH_DNNL
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
#endif
  const Shape shapes[] = {{"gate_up_5632x1024", 5632, 1024}, {"down_1024x2816", 1024, 2816}, {"seed_o_5120x8192", 5120, 8192}};
  std::printf("{\"isa\": \"%s\", \"threads\": %d, \"m\": %ld", cpu::linear_isa(), threads, static_cast<long>(m));
  for (const Shape& s : shapes) {
    const int64_t n = s.n, k = s.k;
    const double flops = 2.0 * static_cast<double>(m * n * k);
    std::vector<uint16_t> wb = random_bf16(static_cast<size_t>(n * k), 1), xb = random_bf16(static_cast<size_t>(m * k), 2);
    std::vector<float> x(xb.size()), y(static_cast<size_t>(m * n));
    for (size_t i = 0; i < xb.size(); i++) x[i] = bf16_to_float(xb[i]);  // bf16-exact x: every entry sees the same input
    Tensor w(wb.data(), DType::BF16, {n, k}, Device{}, nullptr);
    const LinearWeight tiled = tile_bf16_weight(w);
    std::string row;
    auto add = [&](const char* name, double seconds) {
      char buf[160];
      std::snprintf(buf, sizeof(buf), "%s\"%s\": {\"ms\": %.2f, \"gflop_per_s\": %.1f}", row.empty() ? "" : ", ", name,
                    seconds * 1e3, flops / seconds / 1e9);
      row += buf;
    };
    std::fprintf(stderr, "%s: tpserve row-major, tiled...\n", s.name);
    setenv("TPSERVE_CPU_GEMM", "builtin", 1);
    add("tpserve_rowmajor_bf16", best_of(reps, [&] { cpu::linear(x.data(), w, nullptr, m, y.data()); }));
    unsetenv("TPSERVE_CPU_GEMM");
    add("tpserve_tiled_bf16", best_of(reps, [&] { cpu::linear_any(x.data(), tiled, nullptr, m, y.data()); }));
#ifdef TPSERVE_WITH_OPENBLAS
    // the engine's own OpenBLAS path: fp32 panels of W, one single-threaded sgemm per pool thread
    std::fprintf(stderr, "%s: OpenBLAS sgemm...\n", s.name);
    setenv("TPSERVE_CPU_GEMM", "blas", 1);
    add("openblas_sgemm_f32_panels", best_of(reps, [&] { cpu::linear(x.data(), w, nullptr, m, y.data()); }));
    unsetenv("TPSERVE_CPU_GEMM");
#endif
#ifdef TPSERVE_WITH_DNNL
    std::fprintf(stderr, "%s: oneDNN matmul bf16...\n", s.name);
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    dnnl::memory::desc src_md({m, k}, dt::bf16, tag::ab), wei_md({k, n}, dt::bf16, tag::ba), dst_md({m, n}, dt::f32, tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_md, dst_md), eng);  // the oneDNN 2.x API
    dnnl::memory src(src_md, eng, xb.data()), wei(wei_md, eng, wb.data()), dst(dst_md, eng, y.data());
    dnnl::matmul mm(pd);
    add("onednn_matmul_bf16", best_of(reps, [&] {
          mm.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
          strm.wait();
        }));
#endif
    std::printf(",\n \"%s\": {%s}", s.name, row.c_str());
  }
  std::printf("}\n");
  return 0;
}
