// Pre-quantized checkpoints, detected from config.json's quantization_config, mapped onto the
// engine's LinearWeight formats (tpserve/linear_weight.h):
//   gptq (AutoGPTQ / GPTQModel): 4 bits, group 128 (or -1), sym or not, desc_act with g_idx ->
//     Int4 (+ perm for act-order); qweight I32 [k/8, n] packed along k, qzeros I32 [k/g, n/8] packed
//     along n (stored minus one unless checkpoint_format is gptq_v2), scales F16 [k/g, n].
//   awq (AutoAWQ, version gemm): 4 bits -> Int4; qweight I32 [k, n/8] and qzeros I32 [k/g, n/8]
//     packed along n in the order 0 2 4 6 1 3 5 7, scales F16 [k/g, n].
//   fp8 (vLLM / llm-compressor serialized fp8) and compressed-tensors float-quantized 8-bit:
//     weight F8_E4M3 [n, k], weight_scale per tensor ([] / [1]) or per channel ([n] / [n, 1]) -> Fp8.
// Any other variant throws one error naming the field and its value.
#pragma once
#include <string>

#include "tpserve/linear_weight.h"
#include "tpserve/safetensors.h"

namespace tpserve {

struct CheckpointQuantization {
  enum class Method { None, Gptq, Awq, Fp8 };
  Method method = Method::None;
  std::string name;            // quant_method as written
  int64_t group_size = 0;      // gptq / awq (k when -1)
  bool desc_act = false;       // gptq act-order
  bool zeros_minus_one = true;  // gptq v1 stores zero - 1
  bool is_quantized() const { return method != Method::None; }
};

// Reads config.json's quantization_config (Method::None when absent).
CheckpointQuantization read_checkpoint_quantization(const std::string& model_dir);

// Checks the tensors of linear layer `prefix` ("model.layers.0.self_attn.q_proj") against [n, k].
void expect_quantized_linear(const Checkpoint& ckpt, const CheckpointQuantization& q, const std::string& prefix,
                             int64_t n, int64_t k);
// The whole [n, k] layer in the engine's format.
LinearWeight load_quantized_linear(const Checkpoint& ckpt, const CheckpointQuantization& q, const std::string& prefix,
                                   int64_t n, int64_t k);

}  // namespace tpserve
