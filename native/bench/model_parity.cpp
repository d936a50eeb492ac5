// Model parity on the GPU, without gtest or Node: writes a tiny random Seed-OSS checkpoint
// (tiny_checkpoint.h), then
//  1. runs the same steps (three prompts prefilled together, then greedy decode steps fed the
//     CPU engine's tokens) through a CPU engine and a CUDA engine and compares every logits row
//     (relative L2 error; the GPU rounds activations to bf16 in front of its GEMMs), with the
//     bf16 weights and again quantized at load to int8, int4 (lm_head too) and fp8, the CUDA
//     engine then running its quantized kernels (decode GEMV under CUDA graphs, prefill through
//     dequantized bf16 GEMMs) against the CPU's on the same quantized weights;
//  2. runs the same decode steps through two CUDA decoders, eager and with CUDA-graph replay,
//     and requires the same logits (and that graphs were captured and replayed).
//   model_parity [--quick] [--dir DIR] [--steps N]     exit 0 pass, 1 fail, 77 skipped (no GPU)
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tiny_checkpoint.h"
#include "tpserve/backend.h"
#include "tpserve/engine.h"

#ifdef TPSERVE_WITH_CUDA
#include "engine/cuda_graph_runner.h"
#include "model/decoder.h"
#include "tpserve/model_weights.h"
#endif

using namespace tpserve;

namespace {

constexpr double kEngineTolerance = 3e-2;  // bf16-rounded activations vs fp32 on the CPU
constexpr double kGraphTolerance = 1e-3;   // same kernels; GEMM algorithms may differ with padding

double rel_err(const float* a, const float* ref, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = static_cast<double>(a[i]) - ref[i];
    if (!std::isfinite(a[i])) return INFINITY;
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

struct Prompt {
  uint64_t id;
  std::vector<int32_t> tokens;
  std::vector<int32_t> blocks;
};

std::vector<Prompt> prompts(int64_t vocab) {
  std::vector<Prompt> p;
  const int lens[3] = {37, 5, 16};
  int32_t next_block = 0;
  for (int s = 0; s < 3; s++) {
    Prompt pr{static_cast<uint64_t>(100 + s), {}, {}};
    for (int i = 0; i < lens[s]; i++) pr.tokens.push_back(static_cast<int32_t>((s * 131 + i * 17 + 3) % vocab));
    for (int b = 0; b < 8; b++) pr.blocks.push_back(next_block++);  // 128 tokens of room each
    p.push_back(pr);
  }
  return p;
}

// Engine-level parity: CPU vs CUDA on identical steps. Returns the worst relative error.
double engine_parity(const std::string& dir, int steps, int* token_mismatches, const std::string& quantization) {
  EngineOptions base;
  base.model_dir = dir;
  base.quantization = quantization;
  base.quantize_lm_head = quantization == "int4";
  base.kv_dtype = "bf16";
  base.num_kv_blocks = 64;
  EngineOptions cpu_opt = base, gpu_opt = base;
  cpu_opt.device = "cpu";
  gpu_opt.device = "cuda";
  auto cpu = Engine::load(cpu_opt);
  auto gpu = Engine::load(gpu_opt);
  const int64_t vocab = cpu->info().config.vocab_size;
  std::vector<Prompt> ps = prompts(vocab);
  std::vector<int64_t> pos(ps.size(), 0);
  std::vector<int32_t> next(ps.size(), 0);
  double worst = 0;
  for (int step = 0; step <= steps; step++) {
    StepInput in;
    in.step_id = static_cast<uint64_t>(step);
    for (size_t i = 0; i < ps.size(); i++) {
      ScheduledSequence s;
      s.seq_id = ps[i].id;
      s.sample = true;
      if (step == 0) {
        NewSequence ns;
        ns.seq_id = ps[i].id;
        ns.params.temperature = 0;  // greedy
        ns.has_seed = true;
        ns.prompt_tokens = ps[i].tokens;
        in.new_sequences.push_back(ns);
        s.tokens = ps[i].tokens;
        s.new_block_ids = ps[i].blocks;
        s.logits = LogitsMode::All;
      } else {
        s.tokens = {next[i]};
        s.logits = LogitsMode::Last;
      }
      s.start_pos = pos[i];
      pos[i] += static_cast<int64_t>(s.tokens.size());
      in.scheduled.push_back(s);
    }
    StepOutput a = cpu->step(in), b = gpu->step(in);
    for (size_t i = 0; i < a.logits.size(); i++) {
      double e = rel_err(b.logits[i].data.data(), a.logits[i].data.data(), static_cast<int64_t>(a.logits[i].data.size()));
      worst = std::max(worst, e);
      if (e > kEngineTolerance)
        std::printf("  step %d seq %llu: logits rel err %.3g\n", step, static_cast<unsigned long long>(a.logits[i].seq_id), e);
    }
    for (size_t i = 0; i < a.samples.size(); i++) {
      next[i] = a.samples[i].result.token;  // both engines continue with the CPU's choice
      if (b.samples[i].result.token != a.samples[i].result.token) (*token_mismatches)++;
    }
  }
  return worst;
}

#ifdef TPSERVE_WITH_CUDA
// Decoder-level: eager vs CUDA-graph replay on one GPU. Returns the worst relative error.
double graph_parity(const std::string& dir, int steps, cuda::DecodeGraphStats* stats) {
  auto be = make_cuda_backend(0);
  auto comm = make_single_communicator();
  ModelWeights host = load_model_weights(dir, TensorParallel{});
  ModelWeights dev = upload_weights(host, *be, nullptr);
  const ModelConfig& c = dev.config;
  KvLayout layout{64, c.num_key_value_heads, 16, c.head_dim};
  KvCache kv_a(*be, c.num_hidden_layers, layout, DType::BF16), kv_b(*be, c.num_hidden_layers, layout, DType::BF16);
  Decoder eager(dev, *be, *comm, kv_a), graphs(dev, *be, *comm, kv_b);
  auto runner = cuda::make_decode_graph_runner(256);
  TPS_CHECK(runner, "TPSERVE_CUDA_GRAPHS=0 turns the graphs off: unset it for this check");
  const DecodeRunner* runner_ptr = runner.get();
  graphs.set_decode_runner(std::move(runner));
  std::vector<Prompt> ps = prompts(c.vocab_size);
  // Prefill the three prompts (eager in both), then decode them together.
  ForwardBatch pf;
  int64_t width = 8;
  pf.max_blocks_per_seq = width;
  for (const Prompt& p : ps) {
    pf.query_start.push_back(static_cast<int32_t>(pf.token_ids.size()));
    for (size_t j = 0; j < p.tokens.size(); j++) {
      pf.token_ids.push_back(p.tokens[j]);
      pf.positions.push_back(static_cast<int32_t>(j));
      pf.slots.push_back(p.blocks[j / 16] * 16 + static_cast<int32_t>(j % 16));
    }
    pf.context_lens.push_back(static_cast<int32_t>(p.tokens.size()));
    pf.block_tables.insert(pf.block_tables.end(), p.blocks.begin(), p.blocks.end());
    pf.logits_rows.push_back(static_cast<int32_t>(pf.token_ids.size() - 1));
  }
  pf.query_start.push_back(static_cast<int32_t>(pf.token_ids.size()));
  eager.forward(pf, nullptr);
  graphs.forward(pf, nullptr);
  double worst = 0;
  std::vector<float> la(static_cast<size_t>(ps.size() * c.vocab_size)), lb(la.size());
  for (int step = 0; step < steps; step++) {
    ForwardBatch d;
    d.max_blocks_per_seq = width;
    for (size_t i = 0; i < ps.size(); i++) {
      const int32_t p = static_cast<int32_t>(ps[i].tokens.size()) + step;
      d.query_start.push_back(static_cast<int32_t>(i));
      d.token_ids.push_back(static_cast<int32_t>((p * 31 + static_cast<int32_t>(i)) % c.vocab_size));
      d.positions.push_back(p);
      d.slots.push_back(ps[i].blocks[p / 16] * 16 + p % 16);
      d.context_lens.push_back(p + 1);
      d.block_tables.insert(d.block_tables.end(), ps[i].blocks.begin(), ps[i].blocks.end());
      d.logits_rows.push_back(static_cast<int32_t>(i));
    }
    d.query_start.push_back(static_cast<int32_t>(ps.size()));
    const float* a = eager.forward(d, nullptr);
    be->copy_to_host(la.data(), a, la.size() * sizeof(float));
    const float* b = graphs.forward(d, nullptr);
    be->copy_to_host(lb.data(), b, lb.size() * sizeof(float));
    for (size_t i = 0; i < ps.size(); i++)
      worst = std::max(worst, rel_err(lb.data() + i * c.vocab_size, la.data() + i * c.vocab_size, c.vocab_size));
  }
  *stats = cuda::decode_graph_stats(*runner_ptr);
  return worst;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int steps = 6;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--quick") steps = 4;
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--steps" && i + 1 < argc) steps = std::atoi(argv[++i]);
  }
  if (!cuda_compiled()) {
    std::printf("model_parity: skipped: this build has no CUDA\n");
    return 77;
  }
  try {
    make_cuda_backend(0);
  } catch (const std::exception& e) {
    std::printf("model_parity: skipped: %s\n", e.what());
    return 77;
  }
  bool own_dir = dir.empty();
  if (own_dir) dir = (std::filesystem::temp_directory_path() / ("tpserve-tiny-" + std::to_string(::getpid()))).string();
  int rc = 1;
  try {
    std::filesystem::create_directories(dir);
    bench::write_tiny_checkpoint(dir, bench::TinyShape{}, 1234);
    bool ok = true;
    for (const char* q : {"none", "int8", "int4", "fp8"}) {
      int mismatches = 0;
      double e1 = engine_parity(dir, steps, &mismatches, q);
      std::printf("engine cpu vs cuda (quantization %s): worst logits rel err %.3g (tolerance %.0e), greedy token "
                  "mismatches %d\n", q, e1, kEngineTolerance, mismatches);
      ok = ok && e1 <= kEngineTolerance;
    }
#ifdef TPSERVE_WITH_CUDA
    cuda::DecodeGraphStats st;
    double e2 = graph_parity(dir, steps, &st);
    std::printf("decoder eager vs cuda graphs: worst rel err %.3g (tolerance %.0e); %lld captures, %lld replays\n", e2,
                kGraphTolerance, static_cast<long long>(st.num_captures), static_cast<long long>(st.num_replays));
    ok = ok && e2 <= kGraphTolerance && st.num_captures > 0 && st.num_replays > 0;
#endif
    std::printf("model_parity: %s\n", ok ? "PASS" : "FAIL");
    rc = ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::printf("model_parity: FAIL: %s\n", e.what());
  }
  if (own_dir) std::filesystem::remove_all(dir);
  return rc;
}
