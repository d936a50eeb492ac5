// Engine loading: config check, backend and communicator, this rank's weights, KV cache.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "engine/cuda_backend.h"
#include "engine/engine_impl.h"
#include "tpserve/model_weights.h"

namespace tpserve {
namespace {

// kv_dtype "auto": the model's own 16-bit dtype (as vLLM's `--kv-cache-dtype auto`): bf16 or f16
// weights keep a cache of that dtype on the CPU too (half the bytes that decode attention reads and
// that a block takes), f32 weights an f32 cache; on CUDA always bf16.
DType auto_kv_dtype(const std::string& device, DType weights) {
  if (device == "cuda") return DType::BF16;
  return weights == DType::BF16 || weights == DType::F16 ? weights : DType::F32;
}

}  // namespace

EngineImpl::EngineImpl(const EngineOptions& options, const ProgressFn& progress) {
  TPS_CHECK(options.tp_size >= 1 && options.tp_rank >= 0 && options.tp_rank < options.tp_size,
            "invalid tensor-parallel rank ", options.tp_rank, " of ", options.tp_size);
  TPS_CHECK(options.device == "cpu" || options.device == "cuda", "unknown device '", options.device,
            "' (expected cpu or cuda)");
  TPS_CHECK(!options.batch_invariant || options.device == "cpu",
            "batch_invariant is implemented for the cpu device only (cuBLAS GEMMs choose their kernel by batch size)");
  TensorParallel tp{options.tp_rank, options.tp_size};
  // Refuse a tp the model cannot take before touching any weight file.
  ModelConfig config = load_model_config(options.model_dir);
  shard_geometry(config, tp);
  QuantizeOptions quantize;
  if (options.quantization != "none") quantize.format = parse_quantization(options.quantization);
  TPS_CHECK(!options.quantize_lm_head || quantize.format != WeightFormat::Float,
            "quantize_lm_head needs a quantization (int8, int4 or fp8)");
  quantize.quantize_lm_head = options.quantize_lm_head;

  backend_ = options.device == "cuda" ? make_cuda_backend(options.device_index)
                                      : make_cpu_backend(options.num_threads, options.batch_invariant);
  if (options.tp_size == 1) {
    comm_ = make_single_communicator();
  } else {
    TPS_CHECK(!options.comm_id.empty(), "tp_size ", options.tp_size, " needs a communicator id (comm_id)");
    // Gloo's ring all-reduce sums each element's ranks in an order that depends on the buffer's
    // size (the step's tokens): exact for two ranks (a + b = b + a), not for three or more.
    TPS_CHECK(!options.batch_invariant || options.tp_size <= 2 || options.device != "cpu" ||
                  !is_gloo_unique_id(options.comm_id),
              "batch_invariant with the Gloo communicator (ranks on several hosts) needs tp <= 2, got tp ",
              options.tp_size, " (its ring all-reduce sums ranks in an order that depends on the step's size)");
    comm_ = options.device == "cuda" ? make_nccl_communicator(options.comm_id, options.tp_rank, options.tp_size,
                                                              options.device_index)
                                     : is_gloo_unique_id(options.comm_id)
                                         ? make_gloo_communicator(options.comm_id, options.tp_rank, options.tp_size)
                                         : make_shm_communicator(options.comm_id, options.tp_rank, options.tp_size);
  }

  struct ProgressBridge { const ProgressFn* fn; };
  ProgressBridge bridge{&progress};
  ModelWeights host = load_model_weights(
      options.model_dir, tp,
      [](void* user, int64_t done, int64_t total) {
        auto* b = static_cast<ProgressBridge*>(user);
        if (*b->fn) (*b->fn)("weights", done, total);
      },
      &bridge, quantize);
  DType weight_dtype{};
  const DType* wd = nullptr;
  if (options.weight_dtype != "auto") {
    weight_dtype = parse_dtype(options.weight_dtype);
    wd = &weight_dtype;
  }
  // TPSERVE_FUSE_PROJECTIONS=0 keeps q/k/v and gate/up apart (the before/after of docs/benchmarks.md).
  const char* fuse_env = std::getenv("TPSERVE_FUSE_PROJECTIONS");
  const bool fuse = !(fuse_env && std::string(fuse_env) == "0");
  ModelWeights weights = upload_weights(
      host, *backend_, wd, [&](int64_t done, int64_t total) { if (progress) progress("upload", done, total); }, fuse);

  const ModelConfig& c = weights.config;
  KvLayout layout;
  layout.num_kv_heads = weights.shard.num_kv_heads;
  layout.block_size = options.kv_block_size;
  layout.head_dim = c.head_dim;
  TPS_CHECK(options.kv_block_size > 0 && options.kv_block_size <= 1024, "kv_block_size must be in [1, 1024], got ",
            options.kv_block_size);
  DType kv_dtype = options.kv_dtype == "auto" ? auto_kv_dtype(options.device, wd ? *wd : host.embed_tokens.dtype())
                                              : parse_dtype(options.kv_dtype);
  size_t per_block = KvCache::bytes_per_block(c.num_hidden_layers, layout, kv_dtype);
  layout.num_blocks = options.num_kv_blocks;
  if (layout.num_blocks <= 0) {
    int64_t budget = options.kv_cache_bytes > 0 ? options.kv_cache_bytes : (int64_t{512} << 20);
    if (options.kv_cache_bytes <= 0)
      budget = std::min<int64_t>(budget, static_cast<int64_t>(backend_->free_memory_bytes() / 4));
    layout.num_blocks = budget / static_cast<int64_t>(per_block);
  }
  TPS_CHECK(layout.num_blocks > 0, "the KV cache budget is too small for even one block of ", per_block, " bytes");
  kv_ = std::make_unique<KvCache>(*backend_, c.num_hidden_layers, layout, kv_dtype, [&](int64_t done, int64_t total) {
    if (progress) progress("kv_cache", done, total);
  });

  info_.config = c;
  info_.num_kv_blocks = layout.num_blocks;
  info_.kv_block_size = layout.block_size;
  info_.device = backend_->describe();
  info_.tp_rank = options.tp_rank;
  info_.tp_size = options.tp_size;
  info_.weight_bytes = model_weight_bytes(weights);
  info_.decode_bytes_per_token = model_decode_bytes_per_token(weights);
  decoder_ = std::make_unique<Decoder>(std::move(weights), *backend_, *comm_, *kv_);
  decoder_->set_decode_runner(make_decode_runner(*backend_));  // CUDA graphs for decode; none on CPU
  is_driver_ = options.tp_rank == 0;
}

std::unique_ptr<Engine> Engine::load(const EngineOptions& options, const ProgressFn& progress) {
  return std::make_unique<EngineImpl>(options, progress);
}

std::string create_comm_id(const std::string& device, const std::string& backend, const std::string& host) {
  if (device == "cuda") {
    TPS_CHECK(backend.empty() || backend == "nccl", "cuda ranks use NCCL, not '", backend, "'");
    return create_nccl_unique_id();
  }
  TPS_CHECK(device == "cpu", "unknown device '", device, "' (expected cpu or cuda)");
  if (backend == "gloo") return create_gloo_unique_id(host);
  TPS_CHECK(backend.empty() || backend == "shm", "unknown CPU communicator '", backend, "' (expected shm or gloo)");
  return create_shm_unique_id();
}

}  // namespace tpserve
