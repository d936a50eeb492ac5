// Batch-1 decode through the whole CPU engine (Engine::step: every op, sampling included) in several
// weight formats loaded side by side in one process, no JS, no gRPC. Each format decodes one
// greedy sequence; blocks of --per-block steps alternate between the formats in the order
// A B C C B A, so that a host whose read bandwidth drifts weighs on each format alike. Prints per
// format the mean and median ms a step, the weight bytes a token streams, the GB/s that implies,
// and the speed-up over the first format: the ratio issue 11's targets are about, without the JS
// thread of `tpserve generate` (which shares this machine's 2 cores).
// A sequence that reaches --context positions is finished and started again.
// Run: native/build/engine_step_bench MODEL_DIR [--formats none,int8,int4] [--blocks 12]
//      [--per-block 8] [--context 512] [--lm-head] [--threads N]   (--lm-head: --quantize-lm-head for
//      the quantized; --threads: the CPU threads, 0 = all cores)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tpserve/engine.h"

using namespace tpserve;

namespace {

constexpr int64_t kPromptTokens = 4;

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct FormatRun {
  std::string name;
  std::unique_ptr<Engine> engine;
  uint64_t step_id = 0;
  int64_t position = 0;
  std::vector<double> step_ms;
};

// Starts sequence 1 again: its prompt prefilled, the blocks for `context` positions given.
void start_sequence(FormatRun& run, int64_t context) {
  StepInput in;
  in.step_id = ++run.step_id;
  NewSequence seq;
  seq.seq_id = 1;
  seq.params.temperature = 0;
  seq.num_prompt_tokens = kPromptTokens;
  in.new_sequences.push_back(seq);
  ScheduledSequence s;
  s.seq_id = 1;
  for (int32_t t = 1; t <= kPromptTokens; t++) s.tokens.push_back(t);
  s.sample = true;
  const int64_t block = run.engine->info().kv_block_size;
  for (int64_t b = 0; b < (context + block - 1) / block; b++) s.new_block_ids.push_back(static_cast<int32_t>(b));
  in.scheduled.push_back(s);
  run.engine->step(in);
  run.position = kPromptTokens;
}

void finish_sequence(FormatRun& run) {
  StepInput in;
  in.step_id = ++run.step_id;
  in.finished.push_back(1);
  run.engine->step(in);
}

// One decode step of sequence 1 (its last sampled token as a placeholder); returns its ms.
double decode_step(FormatRun& run) {
  StepInput in;
  in.step_id = ++run.step_id;
  ScheduledSequence s;
  s.seq_id = 1;
  s.tokens = {-1};
  s.start_pos = run.position++;
  s.sample = true;
  in.scheduled.push_back(s);
  const double t0 = now_ms();
  run.engine->step(in);
  return now_ms() - t0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr,
                 "usage: engine_step_bench MODEL_DIR [--formats none,int8,int4] [--blocks N] [--per-block N] "
                 "[--context N] [--lm-head] [--threads N]\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::string formats = "none,int8,int4";
  int blocks = 12, per_block = 8;
  int64_t context = 512;
  bool lm_head = false;
  int threads = 0;
  for (int i = 2; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--formats" && i + 1 < argc) formats = argv[++i];
    else if (a == "--blocks" && i + 1 < argc) blocks = std::max(2, std::atoi(argv[++i]));
    else if (a == "--per-block" && i + 1 < argc) per_block = std::max(1, std::atoi(argv[++i]));
    else if (a == "--context" && i + 1 < argc) context = std::max<int64_t>(kPromptTokens + 2, std::atoll(argv[++i]));
    else if (a == "--lm-head") lm_head = true;
    else if (a == "--threads" && i + 1 < argc) threads = std::max(0, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "engine_step_bench: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  std::vector<FormatRun> runs;
  for (size_t at = 0; at < formats.size();) {
    const size_t end = std::min(formats.find(',', at), formats.size());
    FormatRun run;
    run.name = formats.substr(at, end - at);
    at = end + 1;
    EngineOptions options;
    options.model_dir = dir;
    options.quantization = run.name;
    options.quantize_lm_head = lm_head && run.name != "none";
    options.num_threads = threads;
    std::fprintf(stderr, "engine_step_bench: loading %s (%s)\n", dir.c_str(), run.name.c_str());
    try {
      run.engine = Engine::load(options);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "engine_step_bench: %s\n", e.what());
      return 1;
    }
    start_sequence(run, context);
    runs.push_back(std::move(run));
  }
  const size_t f = runs.size();
  for (int b = 0; b < blocks; b++) {  // block 0 warms every format up
    std::fprintf(stderr, "block %d of %d\n", b + 1, blocks);
    for (size_t j = 0; j < 2 * f; j++) {
      FormatRun& run = runs[j < f ? j : 2 * f - 1 - j];
      for (int s = 0; s < per_block; s++) {
        if (run.position >= context) {
          finish_sequence(run);
          start_sequence(run, context);
        }
        const double ms = decode_step(run);
        if (b > 0) run.step_ms.push_back(ms);
      }
    }
  }
  std::printf("{\"model\": \"%s\", \"device\": \"%s\", \"steps_per_format\": %zu, \"formats\": {", dir.c_str(),
              runs[0].engine->info().device.c_str(), runs[0].step_ms.size());
  double base_mean = 0;
  for (size_t i = 0; i < f; i++) {
    std::vector<double> v = runs[i].step_ms;
    std::sort(v.begin(), v.end());
    double mean = 0;
    for (double d : v) mean += d;
    mean /= static_cast<double>(v.size());
    if (i == 0) base_mean = mean;
    const double bytes = static_cast<double>(runs[i].engine->info().decode_bytes_per_token);
    std::printf("%s\n  \"%s\": {\"mean_ms\": %.3f, \"median_ms\": %.3f, \"bytes_per_token_mb\": %.1f, \"gb_per_s\": %.1f, "
                "\"speedup_over_%s\": %.3f}",
                i == 0 ? "" : ",", runs[i].name.c_str(), mean, v[v.size() / 2], bytes / 1e6, bytes / (mean * 1e6),
                runs[0].name.c_str(), base_mean / mean);
  }
  std::printf("}}\n");
  return 0;
}
