// Seed-OSS-36B-shaped benchmark on one GPU (tp 1), no checkpoint: random bf16 weights and KV
// cache generated on the device (hash-based fills), the real Decoder on the CUDA backend.
// Measures: device-to-device copy bandwidth, cuBLASLt bf16 GEMM rate, decode tokens/s at batch
// 1, 8, 64, 256 over a 1k-token context (CUDA graphs; batch 1 also eager), prefill tokens/s of a
// 4k prompt; batch-1 decode as % of the bandwidth floor (bytes of weights read per step / copy
// bandwidth), prefill as % of the GEMM rate. Prints a table last; JSON to --json or $OUT.
//   seed_oss_bench [--layers 64] [--context 1024] [--prefill 4096] [--batches 1,8,64,256] [--json F]
// Exits 77 when the build has no CUDA or no GPU is found.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tpserve/backend.h"

#ifndef TPSERVE_WITH_CUDA
int main() {
  std::printf("seed_oss_bench: this build has no CUDA (nvcc was not found): skipped\n");
  return 77;
}
#else
#include <cuda_runtime_api.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cuda_timing.h"
#include "engine/cuda_backend.h"
#include "engine/cuda_graph_runner.h"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/random_fill.h"
#include "model/decoder.h"

using namespace tpserve;
using bench::median;
using bench::time_events;

namespace {

struct Options {
  int64_t layers = 64, context = 1024, prefill = 4096;
  std::vector<int64_t> batches{1, 8, 64, 256};
  std::string json_path;
};

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

Tensor random_tensor(Backend& be, cudaStream_t s, DType dt, std::vector<int64_t> shape, uint64_t seed, float lo,
                     float hi) {
  Tensor t = be.alloc(dt, std::move(shape));
  cuda::random_fill(t.data(), dt, t.numel(), seed, lo, hi, s);
  return t;
}

ModelConfig seed_oss_config(int64_t layers) {
  ModelConfig c;
  c.architecture = "SeedOssForCausalLM";
  c.model_type = "seed_oss";
  c.vocab_size = 155136;
  c.hidden_size = 5120;
  c.intermediate_size = 27648;
  c.num_hidden_layers = layers;
  c.num_attention_heads = 80;
  c.num_key_value_heads = 8;
  c.head_dim = 128;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 1e7;
  c.max_position_embeddings = 524288;
  c.attention_bias = true;  // Seed-OSS: q/k/v bias, no o_proj or MLP bias
  return c;
}

// Weights straight in device memory, uniform in ±sqrt(3 / fan_in) (unit-variance outputs).
ModelWeights random_weights(Backend& be, cudaStream_t s, const ModelConfig& c) {
  ModelWeights w;
  w.config = c;
  w.shard = shard_geometry(c, TensorParallel{});
  const int64_t H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  const int64_t q = c.num_attention_heads * D, kv = c.num_key_value_heads * D;
  uint64_t seed = 1;
  auto mat = [&](int64_t rows, int64_t cols) {
    float a = std::sqrt(3.0f / static_cast<float>(cols));
    return random_tensor(be, s, DType::BF16, {rows, cols}, seed++, -a, a);
  };
  auto vec = [&](int64_t n, float lo, float hi) { return random_tensor(be, s, DType::F32, {n}, seed++, lo, hi); };
  w.embed_tokens = random_tensor(be, s, DType::BF16, {c.vocab_size, H}, seed++, -1.f, 1.f);
  w.lm_head = mat(c.vocab_size, H);
  w.final_norm = vec(H, 0.9f, 1.1f);
  for (int64_t l = 0; l < c.num_hidden_layers; l++) {
    LayerWeights lw;
    lw.input_norm = vec(H, 0.9f, 1.1f);
    lw.post_attention_norm = vec(H, 0.9f, 1.1f);
    lw.q_proj = mat(q, H);
    lw.k_proj = mat(kv, H);
    lw.v_proj = mat(kv, H);
    lw.q_bias = vec(q, -0.1f, 0.1f);
    lw.k_bias = vec(kv, -0.1f, 0.1f);
    lw.v_bias = vec(kv, -0.1f, 0.1f);
    lw.o_proj = mat(H, q);
    lw.gate_proj = mat(I, H);
    lw.up_proj = mat(I, H);
    lw.down_proj = mat(H, I);
    w.layers.push_back(std::move(lw));
  }
  return w;
}

// Bytes of weights one decode step reads (everything but the embedding table, of which it reads rows).
double weight_bytes_per_step(const ModelWeights& w) {
  return static_cast<double>(model_weight_bytes(w) - static_cast<int64_t>(w.embed_tokens.nbytes()));
}

// A decode step of `batch` sequences at position `pos`; sequence s owns blocks [s * per_seq, ...)
// modulo num_blocks.
ForwardBatch decode_batch(int64_t batch, int64_t pos, int64_t block_size, int64_t num_blocks, int64_t vocab) {
  ForwardBatch b;
  const int64_t per_seq = pos / block_size + 1;
  b.max_blocks_per_seq = per_seq;
  for (int64_t s = 0; s < batch; s++) {
    for (int64_t j = 0; j < per_seq; j++) b.block_tables.push_back(static_cast<int32_t>((s * per_seq + j) % num_blocks));
    b.token_ids.push_back(static_cast<int32_t>((s * 7919 + pos * 104729) % vocab));
    b.positions.push_back(static_cast<int32_t>(pos));
    b.slots.push_back(b.block_tables[s * per_seq + pos / block_size] * static_cast<int32_t>(block_size) +
                      static_cast<int32_t>(pos % block_size));
    b.query_start.push_back(static_cast<int32_t>(s));
    b.context_lens.push_back(static_cast<int32_t>(pos + 1));
    b.logits_rows.push_back(static_cast<int32_t>(s));
  }
  b.query_start.push_back(static_cast<int32_t>(batch));
  return b;
}

ForwardBatch prefill_batch(int64_t tokens, int64_t block_size, int64_t vocab) {
  ForwardBatch b;
  b.max_blocks_per_seq = (tokens + block_size - 1) / block_size;
  for (int64_t j = 0; j < b.max_blocks_per_seq; j++) b.block_tables.push_back(static_cast<int32_t>(j));
  for (int64_t t = 0; t < tokens; t++) {
    b.token_ids.push_back(static_cast<int32_t>((t * 7919 + 13) % vocab));
    b.positions.push_back(static_cast<int32_t>(t));
    b.slots.push_back(static_cast<int32_t>(t));  // blocks 0.. in order: slot = position
  }
  b.query_start = {0, static_cast<int32_t>(tokens)};
  b.context_lens = {static_cast<int32_t>(tokens)};
  b.logits_rows = {static_cast<int32_t>(tokens - 1)};
  return b;
}

// Median wall seconds of decoder.forward over `reps` steps after `warmup`; positions advance
// from `pos` (the caller keeps them inside one block).
double time_decode(Decoder& d, int64_t batch, int64_t pos, int warmup, int reps, int64_t bs, int64_t blocks,
                   int64_t vocab) {
  std::vector<double> t;
  for (int i = 0; i < warmup + reps; i++) {
    ForwardBatch b = decode_batch(batch, pos + i, bs, blocks, vocab);
    double t0 = now_s();
    d.forward(b, nullptr);
    if (i >= warmup) t.push_back(now_s() - t0);
  }
  return median(t);
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* out = std::getenv("OUT"); out && *out) o.json_path = std::string(out) + "/seed_oss_bench.json";
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      TPS_CHECK(i + 1 < argc, "seed_oss_bench: ", a, " needs a value");
      return argv[++i];
    };
    if (a == "--layers") o.layers = std::stoll(next());
    else if (a == "--context") o.context = std::stoll(next());
    else if (a == "--prefill") o.prefill = std::stoll(next());
    else if (a == "--json") o.json_path = next();
    else if (a == "--batches") {
      o.batches.clear();
      std::string v = next();
      for (size_t p = 0; p < v.size();) {
        size_t e = v.find(',', p);
        o.batches.push_back(std::stoll(v.substr(p, e - p)));
        p = e == std::string::npos ? v.size() : e + 1;
      }
    } else TPS_THROW("seed_oss_bench: unknown option ", a);
  }
  return o;
}

int run(const Options& o) {
  std::unique_ptr<Backend> be;
  try {
    be = make_cuda_backend(0);
  } catch (const Error& e) {
    std::printf("seed_oss_bench: skipped: %s\n", e.what());
    return 77;
  }
  cudaStream_t s = cuda::backend_stream(*be);
  cuda::CublasLt* blas = cuda::backend_cublaslt(*be);
  nlohmann::json out;
  out["device"] = be->describe();
  std::fprintf(stderr, "device: %s\n", be->describe().c_str());

  // 1. Copy bandwidth: 2 GiB device-to-device, bytes read + written.
  const size_t copy_bytes = size_t{2} << 30;
  double copy_gbs = 0;
  {
    Tensor a = random_tensor(*be, s, DType::F32, {static_cast<int64_t>(copy_bytes / 4)}, 99, -1, 1);
    Tensor b = be->alloc(DType::F32, {static_cast<int64_t>(copy_bytes / 4)});
    double t = time_events(s, 3, 10, [&] {
      TPS_CUDA_CHECK(cudaMemcpyAsync(b.data(), a.data(), copy_bytes, cudaMemcpyDeviceToDevice, s));
    });
    copy_gbs = 2.0 * static_cast<double>(copy_bytes) / t / 1e9;
  }
  std::fprintf(stderr, "copy bandwidth: %.0f GB/s\n", copy_gbs);

  // 2. GEMM rate: bf16 x bf16 → fp32 (the decoder's configuration), 8192^3 and a prefill shape.
  double gemm_tflops = 0, gemm_mlp_tflops = 0;
  if (blas) {
    auto rate = [&](int64_t m, int64_t n, int64_t k) {
      Tensor a = random_tensor(*be, s, DType::BF16, {m, k}, 7, -1, 1);
      Tensor w = random_tensor(*be, s, DType::BF16, {n, k}, 8, -1, 1);
      Tensor d = be->alloc(DType::F32, {m, n});
      double t = time_events(s, 3, 10, [&] { blas->gemm(DType::BF16, a.data(), w.data(), nullptr, m, n, k, d.ptr<float>(), s); });
      return 2.0 * m * n * k / t / 1e12;
    };
    gemm_tflops = rate(8192, 8192, 8192);
    gemm_mlp_tflops = rate(4096, 27648, 5120);
  }
  std::fprintf(stderr, "bf16 GEMM: %.0f TFLOP/s (8192^3), %.0f (4096x27648x5120)\n", gemm_tflops, gemm_mlp_tflops);

  // 3. The model: weights, KV cache (random, as if 1k tokens were cached), decoders.
  ModelConfig c = seed_oss_config(o.layers);
  ModelWeights w = random_weights(*be, s, c);
  be->synchronize();
  const double step_bytes = weight_bytes_per_step(w);
  KvLayout layout{0, c.num_key_value_heads, 16, c.head_dim};
  const int64_t max_batch = *std::max_element(o.batches.begin(), o.batches.end());
  const int64_t per_seq = (o.context + 10) / layout.block_size + 1;  // decode positions context .. context + 10
  const size_t per_block = KvCache::bytes_per_block(c.num_hidden_layers, layout, DType::BF16);
  const size_t headroom = size_t{6} << 30;  // activations (4k prefill ~2 GB), logits, cuBLASLt, attention scratch
  const size_t free = be->free_memory_bytes();
  const int64_t fit = free > headroom ? static_cast<int64_t>((free - headroom) / per_block) : 1;
  layout.num_blocks = std::max<int64_t>(
      std::min<int64_t>(max_batch * per_seq, fit), (o.prefill + layout.block_size - 1) / layout.block_size);
  if (layout.num_blocks < max_batch * per_seq)
    std::fprintf(stderr, "note: %lld KV blocks fit, %lld wanted: large batches share blocks\n",
                 static_cast<long long>(layout.num_blocks), static_cast<long long>(max_batch * per_seq));
  KvCache kv(*be, c.num_hidden_layers, layout, DType::BF16);
  const int64_t kv_elems = layout.num_blocks * layout.num_kv_heads * layout.block_size * layout.head_dim;
  for (int64_t l = 0; l < c.num_hidden_layers; l++) {
    cuda::random_fill(kv.k(l), DType::BF16, kv_elems, 1000 + 2 * l, -1, 1, s);
    cuda::random_fill(kv.v(l), DType::BF16, kv_elems, 1001 + 2 * l, -1, 1, s);
  }
  auto comm = make_single_communicator();
  Decoder graphs(w, *be, *comm, kv), eager(w, *be, *comm, kv);
  auto runner = cuda::make_decode_graph_runner(256);
  TPS_CHECK(runner, "TPSERVE_CUDA_GRAPHS=0 turns the graphs off: unset it for this benchmark");
  const DecodeRunner* runner_ptr = runner.get();
  graphs.set_decode_runner(std::move(runner));

  // 4. Decode at each batch size: 3 warm-up steps (eager, capture, replay), 8 timed; positions
  // context .. context + 10.
  nlohmann::json decode = nlohmann::json::array();
  double b1_step = 0, b1_eager = 0;
  for (int64_t batch : o.batches) {
    double t = time_decode(graphs, batch, o.context, 3, 8, layout.block_size, layout.num_blocks, c.vocab_size);
    if (batch == 1) {
      b1_step = t;
      b1_eager = time_decode(eager, 1, o.context, 2, 8, layout.block_size, layout.num_blocks, c.vocab_size);
    }
    decode.push_back({{"batch", batch}, {"context", o.context}, {"step_ms", t * 1e3}, {"tokens_per_s", batch / t}});
    std::fprintf(stderr, "decode batch %lld: %.2f ms/step, %.1f tok/s\n", static_cast<long long>(batch), t * 1e3,
                 batch / t);
  }

  // 5. Prefill of one prompt (eager: not a decode batch).
  ForwardBatch pf = prefill_batch(o.prefill, layout.block_size, c.vocab_size);
  std::vector<double> pt;
  for (int i = 0; i < 3; i++) {
    double t0 = now_s();
    eager.forward(pf, nullptr);
    if (i > 0) pt.push_back(now_s() - t0);
  }
  const double prefill_s = median(pt);
  const double T = static_cast<double>(o.prefill);
  const double linear_flops = 2.0 * T * (step_bytes - static_cast<double>(w.lm_head.nbytes())) / 2.0 +
                              2.0 * static_cast<double>(w.lm_head.nbytes()) / 2.0;  // lm_head: last row only
  const double attn_flops = 4.0 * (T * T / 2.0) * c.head_dim * c.num_attention_heads * c.num_hidden_layers;
  const double prefill_tflops = (linear_flops + attn_flops) / prefill_s / 1e12;

  const double floor_s = step_bytes / (copy_gbs * 1e9);
  cuda::DecodeGraphStats gs = cuda::decode_graph_stats(*runner_ptr);
  out["config"] = {{"layers", c.num_hidden_layers}, {"hidden", c.hidden_size}, {"heads", c.num_attention_heads},
                   {"kv_heads", c.num_key_value_heads}, {"intermediate", c.intermediate_size}, {"vocab", c.vocab_size}};
  out["weight_bytes_per_decode_step"] = step_bytes;
  out["copy_bandwidth_gbs"] = copy_gbs;
  out["gemm_bf16_tflops_8192"] = gemm_tflops;
  out["gemm_bf16_tflops_4096x27648x5120"] = gemm_mlp_tflops;
  out["decode"] = decode;
  out["decode_b1_eager_ms"] = b1_eager * 1e3;
  out["bandwidth_floor_ms"] = floor_s * 1e3;
  out["decode_b1_pct_of_floor"] = 100.0 * floor_s / b1_step;
  out["prefill"] = {{"tokens", o.prefill}, {"seconds", prefill_s}, {"tokens_per_s", T / prefill_s},
                    {"tflops", prefill_tflops}, {"pct_of_gemm", gemm_tflops > 0 ? 100 * prefill_tflops / gemm_tflops : 0}};
  out["graphs"] = {{"captures", gs.num_captures}, {"replays", gs.num_replays}, {"eager", gs.num_eager}};
  if (!o.json_path.empty()) std::ofstream(o.json_path) << out.dump(2) << "\n";

  std::printf("\n== Seed-OSS-36B shape, tp 1, %lld layers, bf16 weights, fp32 activations ==\n",
              static_cast<long long>(c.num_hidden_layers));
  std::printf("%-34s %s\n", "device", be->describe().c_str());
  std::printf("%-34s %.1f GB\n", "weights read per decode step", step_bytes / 1e9);
  std::printf("%-34s %.0f GB/s\n", "device copy bandwidth (r+w)", copy_gbs);
  std::printf("%-34s %.0f TFLOP/s (4096x27648x5120: %.0f)\n", "bf16 GEMM 8192^3, fp32 out", gemm_tflops,
              gemm_mlp_tflops);
  for (const auto& d : decode)
    std::printf("decode batch %-4lld ctx %-5lld %8.2f ms/step %10.1f tok/s\n", d["batch"].get<long long>(),
                d["context"].get<long long>(), d["step_ms"].get<double>(), d["tokens_per_s"].get<double>());
  std::printf("%-34s %.2f ms (eager %.2f ms)\n", "batch-1 step, CUDA graphs", b1_step * 1e3, b1_eager * 1e3);
  std::printf("%-34s %.2f ms -> %.0f%% of floor (target 85%%)\n", "bandwidth floor (weights / bw)", floor_s * 1e3,
              100.0 * floor_s / b1_step);
  std::printf("%-34s %.0f tok/s, %.3f s, %.0f TFLOP/s = %.0f%% of GEMM (target 60%%)\n", "prefill 4k prompt",
              T / prefill_s, prefill_s, prefill_tflops, gemm_tflops > 0 ? 100 * prefill_tflops / gemm_tflops : 0.0);
  std::printf("%-34s %lld captures, %lld replays, %lld eager\n", "decode graphs", static_cast<long long>(gs.num_captures),
              static_cast<long long>(gs.num_replays), static_cast<long long>(gs.num_eager));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seed_oss_bench: %s\n", e.what());
    return 1;
  }
}
#endif
