// Per-block int8 quantization of activation rows for the VNNI quantized GEMV (see the header).
#include "kernels/cpu/quantize_activation.h"

#include <algorithm>
#include <cmath>

#include "tpserve/error.h"

namespace tpserve::cpu {

void quantize_activation(const float* x, int64_t m, int64_t k, ActLayout layout, QuantizedActivation& out) {
  TPS_CHECK(m >= 0 && k > 0, "quantize_activation: bad shape [", m, ", ", k, "]");
  TPS_CHECK(layout == ActLayout::Plain || k % kActBlock == 0, "quantize_activation: the even/odd layout needs k (", k,
            ") to be a multiple of ", kActBlock);
  out.m = m;
  out.k = k;
  out.blocks = (k + kActBlock - 1) / kActBlock;
  out.stride = out.blocks * kActBlock;
  out.q.assign(static_cast<size_t>(m * out.stride), 0);
  out.scales.resize(static_cast<size_t>(m * out.blocks));
  out.sums.resize(static_cast<size_t>(m * out.blocks));
  for (int64_t i = 0; i < m; i++)
    for (int64_t b = 0; b < out.blocks; b++) {
      const float* xb = x + i * k + b * kActBlock;
      const int64_t len = std::min(kActBlock, k - b * kActBlock);
      float amax = 0.f;
      for (int64_t c = 0; c < len; c++) amax = std::max(amax, std::fabs(xb[c]));
      const float inv = amax > 0.f ? 127.f / amax : 0.f;
      int8_t* qb = out.q.data() + i * out.stride + b * kActBlock;
      int32_t sum = 0;
      for (int64_t c = 0; c < len; c++) {
        const auto v = static_cast<int8_t>(std::clamp(std::nearbyint(xb[c] * inv), -127.f, 127.f));
        const int64_t at = layout == ActLayout::Plain ? c : (c % 2 == 0 ? c / 2 : kActBlock / 2 + c / 2);
        qb[at] = v;
        sum += v;
      }
      out.scales[static_cast<size_t>(i * out.blocks + b)] = amax / 127.f;
      out.sums[static_cast<size_t>(i * out.blocks + b)] = sum;
    }
}

}  // namespace tpserve::cpu
