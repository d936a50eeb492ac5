// CPU decode attention (see attention_decode.h), one copy of attention_decode.inc per SIMD path,
// chosen at run time. Scratch: thread-local scores and key-row buffers, grown, never freed per call.
// Tests: tests/attention_test.cpp (decode tokens on every path, dtype and head layout)
#include "kernels/cpu/attention_decode.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/cpu/blocks_of_4.h"
#include "kernels/cpu/simd.h"
#include "tpserve/error.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")
namespace tpserve::cpu::simd_avx512 {
#include "kernels/cpu/attention_decode.inc"
}  // namespace tpserve::cpu::simd_avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace tpserve::cpu::simd_avx2 {
#include "kernels/cpu/attention_decode.inc"
}  // namespace tpserve::cpu::simd_avx2
#pragma GCC pop_options

namespace tpserve::cpu::simd_portable {
#include "kernels/cpu/attention_decode.inc"
}  // namespace tpserve::cpu::simd_portable

namespace tpserve::cpu {

void decode_attention_group(const float* q, const void* k_cache, const void* v_cache, DType cache_dtype,
                            const int32_t* block_table, int64_t ctx, int64_t kv_head, const KvLayout& layout,
                            int64_t group, float scale, float* out) {
  if (ctx <= 0) return;
  thread_local std::vector<float> scores;
  thread_local std::vector<int64_t> rows;
  const size_t need = static_cast<size_t>(group * ((ctx + 15) / 16 * 16));
  if (scores.size() < need) scores.resize(std::max(need, scores.size() * 2));
  if (rows.size() < static_cast<size_t>(ctx)) rows.resize(std::max(static_cast<size_t>(ctx), rows.size() * 2));
  switch (active_isa()) {
    case Isa::Avx512:
      return simd_avx512::decode_group_any(q, k_cache, v_cache, cache_dtype, block_table, ctx, kv_head, layout, group,
                                           scale, out, scores.data(), rows.data());
    case Isa::Avx2:
      return simd_avx2::decode_group_any(q, k_cache, v_cache, cache_dtype, block_table, ctx, kv_head, layout, group,
                                         scale, out, scores.data(), rows.data());
    case Isa::Portable:
      return simd_portable::decode_group_any(q, k_cache, v_cache, cache_dtype, block_table, ctx, kv_head, layout,
                                             group, scale, out, scores.data(), rows.data());
  }
}

}  // namespace tpserve::cpu
