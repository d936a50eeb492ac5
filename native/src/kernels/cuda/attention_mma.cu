// Tensor-core paged attention (bf16/f16 cache, head_dim 64/128, sm_80+): flash-attention tiles
// with mma.sync m16n8k16, online softmax in base 2, fp32 accumulation, K/V tiles gathered from
// the paged cache by cp.async into two shared-memory stages.
// fp32 accuracy from 16-bit tensor cores: q and the probabilities P are split into hi + lo
// 16-bit parts (x = hi + lo to ~2^-17) and each product is two MMAs, so Q.K^T and P.V carry
// about fp32 precision against the exact 16-bit K and V. Work split: attention_internal.cuh.
// Block: 4 warps. Decode (kWM = 1): the 4 warps share one 16-row tile and split each 64-key
// tile 4 ways, then merge through shared memory. Prefill (kWM = 4): each warp owns 16 rows.
#include "kernels/cuda/attention_internal.cuh"
#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/mma_primitives.cuh"
#include "kernels/cuda/stream.cuh"

namespace tpserve::cuda::attention_detail {
namespace {

constexpr int kThreads = 128;
constexpr float kNegInf = -__builtin_huge_valf();

// One work unit: rows [row0, row0 + 16 kWM) of a sequence's rows against keys [k_begin, k_end).
struct Unit {
  int seq, kv_head;
  int row0, num_rows;  // num_rows: all rows of the sequence (q_len * group)
  int q_begin;         // query_start[seq]
  int first_pos;       // position of the sequence's first query token
  int k_begin, k_end;
};

template <typename T, int D, int kWM>
struct Cfg {
  static constexpr int kRows = 16 * kWM;              // rows per block
  static constexpr int kWarpsN = 4 / kWM;             // warps sharing a row tile (split the keys)
  static constexpr int kKeysPerWarp = kKeysPerTile / kWarpsN;
  static constexpr int kNT = kKeysPerWarp / 8;        // score n-tiles per warp
  static constexpr int kDT = D / 8;                   // output n-tiles
  static constexpr int kStride = D + 8;               // smem row stride in elements (16 B pad: no ldmatrix conflicts)
  static constexpr int kQElems = kRows * kStride;     // one of q_hi / q_lo
  static constexpr int kKVElems = kKeysPerTile * kStride;
  static constexpr size_t kSmemBytes = sizeof(T) * (2 * kQElems + 4 * kKVElems);  // q hi+lo, 2 stages of K and V
};

// Accumulators of one warp: 16 rows (two per thread: lane / 4 and lane / 4 + 8).
template <int D>
struct Acc {
  float o[D / 8][4];
  float m[2];  // running max (base-2 scaled scores)
  float l[2];  // running sum (thread-partial until the end of run_unit, then the row sum)
};

// Runs one unit; on return acc holds this warp's un-normalised output, max and row sums.
// smem: q_hi [kRows][kStride], q_lo, then stage s: K [64][kStride], V [64][kStride].
template <typename T, int D, int kWM>
__device__ void run_unit(const Params& p, const Unit& u, T* smem, Acc<D>& acc) {
  using C = Cfg<T, D, kWM>;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int rt = warp % kWM, ks = warp / kWM;  // row tile, key slice of this warp
  T* q_hi = smem;
  T* q_lo = smem + C::kQElems;
  T* kv = smem + 2 * C::kQElems;
  const T* kc = static_cast<const T*>(p.k_cache);
  const T* vc = static_cast<const T*>(p.v_cache);
  const int* table = p.block_tables + static_cast<int64_t>(u.seq) * p.max_blocks_per_seq;

  // Q tile -> hi/lo in shared memory (rows past the sequence are zeros).
  for (int f = tid; f < C::kRows * D / 4; f += kThreads) {
    const int row = f / (D / 4), c = (f % (D / 4)) * 4, r = u.row0 + row;
    float4 x = make_float4(0.f, 0.f, 0.f, 0.f);
    if (r < u.num_rows) {
      const int64_t tok = u.q_begin + r / p.group, head = static_cast<int64_t>(u.kv_head) * p.group + r % p.group;
      x = *reinterpret_cast<const float4*>(p.q + (tok * p.num_q_heads + head) * D + c);
    }
    uint32_t h0, l0, h1, l1;
    split_pack<T>(x.x, x.y, h0, l0);
    split_pack<T>(x.z, x.w, h1, l1);
    *reinterpret_cast<uint2*>(q_hi + row * C::kStride + c) = make_uint2(h0, h1);
    *reinterpret_cast<uint2*>(q_lo + row * C::kStride + c) = make_uint2(l0, l1);
  }

  auto load_tile = [&](int stage, int kt) {
    T* ks_dst = kv + stage * 2 * C::kKVElems;
    T* vs_dst = ks_dst + C::kKVElems;
    for (int c = tid; c < kKeysPerTile * (D / 8); c += kThreads) {
      const int row = c / (D / 8), ch = (c % (D / 8)) * 8, t = kt + row;
      const bool valid = t < u.k_end;
      int64_t off = 0;
      if (valid) {
        const int64_t blk = table[t / p.block_size];
        off = ((blk * p.num_kv_heads + u.kv_head) * p.block_size + t % p.block_size) * D + ch;
      }
      cp_async16(ks_dst + row * C::kStride + ch, kc + off, valid);
      cp_async16(vs_dst + row * C::kStride + ch, vc + off, valid);
    }
  };

#pragma unroll
  for (int i = 0; i < 2; i++) acc.m[i] = kNegInf, acc.l[i] = 0.f;
#pragma unroll
  for (int d = 0; d < C::kDT; d++)
#pragma unroll
    for (int e = 0; e < 4; e++) acc.o[d][e] = 0.f;

  // causal limits of this thread's two rows: keys t < lim are visible
  int lim[2];
#pragma unroll
  for (int i = 0; i < 2; i++) {
    const int r = u.row0 + rt * 16 + lane / 4 + 8 * i;
    lim[i] = min(u.k_end, u.first_pos + r / p.group + 1);
  }

  const int num_tiles = (u.k_end - u.k_begin + kKeysPerTile - 1) / kKeysPerTile;
  load_tile(0, u.k_begin);
  cp_async_commit();
  for (int it = 0; it < num_tiles; it++) {
    const int kt = u.k_begin + it * kKeysPerTile;
    if (it + 1 < num_tiles) {
      load_tile((it + 1) & 1, kt + kKeysPerTile);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    const T* k_s = kv + (it & 1) * 2 * C::kKVElems + ks * C::kKeysPerWarp * C::kStride;
    const T* v_s = k_s + C::kKVElems;

    // S = Q . K^T over this warp's keys
    float s[C::kNT][4];
#pragma unroll
    for (int n = 0; n < C::kNT; n++)
#pragma unroll
      for (int e = 0; e < 4; e++) s[n][e] = 0.f;
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
      uint32_t a_hi[4], a_lo[4];
      const int q_off = (rt * 16 + lane % 16) * C::kStride + kk * 16 + (lane / 16) * 8;
      ldsm_x4(a_hi, q_hi + q_off);
      ldsm_x4(a_lo, q_lo + q_off);
#pragma unroll
      for (int np = 0; np < C::kNT / 2; np++) {
        uint32_t b[4];
        ldsm_x4(b, k_s + (np * 16 + lane % 8 + (lane / 16) * 8) * C::kStride + kk * 16 + ((lane / 8) % 2) * 8);
        Mma<T>::mma(s[2 * np], a_hi, b[0], b[1]);
        Mma<T>::mma(s[2 * np], a_lo, b[0], b[1]);
        Mma<T>::mma(s[2 * np + 1], a_hi, b[2], b[3]);
        Mma<T>::mma(s[2 * np + 1], a_lo, b[2], b[3]);
      }
    }

    // mask, scale to base 2, online softmax (rows i = 0, 1 of this thread)
    const int t0 = kt + ks * C::kKeysPerWarp + (lane % 4) * 2;
#pragma unroll
    for (int i = 0; i < 2; i++) {
      float mx = kNegInf;
#pragma unroll
      for (int n = 0; n < C::kNT; n++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
          const int t = t0 + n * 8 + e;
          float& v = s[n][2 * i + e];
          v = t < lim[i] ? v * p.scale_log2 : kNegInf;
          mx = fmaxf(mx, v);
        }
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float m_new = fmaxf(acc.m[i], mx);
      const float m_use = m_new == kNegInf ? 0.f : m_new;  // a row with no key yet: keep everything 0
      const float corr = exp2f(acc.m[i] - m_use);
      acc.m[i] = m_new;
      acc.l[i] *= corr;
#pragma unroll
      for (int d = 0; d < C::kDT; d++) acc.o[d][2 * i] *= corr, acc.o[d][2 * i + 1] *= corr;
#pragma unroll
      for (int n = 0; n < C::kNT; n++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
          float& v = s[n][2 * i + e];
          v = exp2f(v - m_use);
          acc.l[i] += v;
        }
    }

    // O += P . V
#pragma unroll
    for (int c = 0; c < C::kNT / 2; c++) {
      uint32_t p_hi[4], p_lo[4];
      split_pack<T>(s[2 * c][0], s[2 * c][1], p_hi[0], p_lo[0]);
      split_pack<T>(s[2 * c][2], s[2 * c][3], p_hi[1], p_lo[1]);
      split_pack<T>(s[2 * c + 1][0], s[2 * c + 1][1], p_hi[2], p_lo[2]);
      split_pack<T>(s[2 * c + 1][2], s[2 * c + 1][3], p_hi[3], p_lo[3]);
#pragma unroll
      for (int dp = 0; dp < D / 16; dp++) {
        uint32_t b[4];
        ldsm_x4_trans(b, v_s + (c * 16 + lane % 8 + ((lane / 8) % 2) * 8) * C::kStride + dp * 16 + (lane / 16) * 8);
        Mma<T>::mma(acc.o[2 * dp], p_hi, b[0], b[1]);
        Mma<T>::mma(acc.o[2 * dp], p_lo, b[0], b[1]);
        Mma<T>::mma(acc.o[2 * dp + 1], p_hi, b[2], b[3]);
        Mma<T>::mma(acc.o[2 * dp + 1], p_lo, b[2], b[3]);
      }
    }
    __syncthreads();  // the next iteration's load overwrites this stage
  }
#pragma unroll
  for (int i = 0; i < 2; i++) {
    acc.l[i] += __shfl_xor_sync(0xffffffffu, acc.l[i], 1);
    acc.l[i] += __shfl_xor_sync(0xffffffffu, acc.l[i], 2);
  }
}

__device__ __forceinline__ float* out_row(const Params& p, const Unit& u, int r) {
  const int64_t tok = u.q_begin + r / p.group, head = static_cast<int64_t>(u.kv_head) * p.group + r % p.group;
  return p.out + (tok * p.num_q_heads + head) * p.head_dim;
}

// grid (num_splits, num_kv_heads, num_seqs): one 16-row tile of a decode sequence against one
// split of its context; the 4 warps take 16 keys each of every 64-key tile and merge at the end.
template <typename T, int D>
__global__ void __launch_bounds__(kThreads, 2) decode_kernel(const Params p) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* smem = reinterpret_cast<T*>(smem_raw);
  const int seq = blockIdx.z, split = blockIdx.x;
  const int q_begin = p.query_start[seq], q_len = p.query_start[seq + 1] - q_begin;
  if (!is_decode_seq(q_len, p.group)) return;
  const int ctx = p.context_lens[seq];
  const int num_active = min(p.num_splits, (ctx + p.split_len - 1) / p.split_len);
  if (split >= num_active) return;
  Unit u{seq, static_cast<int>(blockIdx.y), 0, q_len * p.group, q_begin, ctx - q_len, split * p.split_len,
         min(ctx, (split + 1) * p.split_len)};
  Acc<D> acc;
  run_unit<T, D, 1>(p, u, smem, acc);

  // merge the 4 warps: sm_o [4][16][D], sm_m / sm_l [4][16] over the (now idle) K/V stages
  float* sm_o = reinterpret_cast<float*>(smem + 2 * Cfg<T, D, 1>::kQElems);
  float* sm_m = sm_o + 4 * 16 * D;
  float* sm_l = sm_m + 4 * 16;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int i = 0; i < 2; i++) {
    const int row = lane / 4 + 8 * i;
    if (lane % 4 == 0) sm_m[warp * 16 + row] = acc.m[i], sm_l[warp * 16 + row] = acc.l[i];
#pragma unroll
    for (int d = 0; d < D / 8; d++) {
      float* dst = sm_o + (warp * 16 + row) * D + d * 8 + (lane % 4) * 2;
      dst[0] = acc.o[d][2 * i];
      dst[1] = acc.o[d][2 * i + 1];
    }
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < 16 * D; idx += kThreads) {
    const int row = idx / D, d = idx % D;
    if (row >= u.num_rows) break;
    float m = kNegInf;
#pragma unroll
    for (int w = 0; w < 4; w++) m = fmaxf(m, sm_m[w * 16 + row]);
    float l = 0.f, o = 0.f;
    if (m != kNegInf) {
#pragma unroll
      for (int w = 0; w < 4; w++) {
        const float f = exp2f(sm_m[w * 16 + row] - m);
        l += sm_l[w * 16 + row] * f;
        o += sm_o[(w * 16 + row) * D + d] * f;
      }
    }
    o = l > 0.f ? o / l : 0.f;
    if (num_active == 1) {
      out_row(p, u, row)[d] = o;
    } else {
      const int64_t part = (static_cast<int64_t>(seq) * p.num_kv_heads + u.kv_head) * p.num_splits + split;
      p.part_out[(part * kDecodeRows + row) * D + d] = o;
      if (d == 0) p.part_lse[part * kDecodeRows + row] = l > 0.f ? m + log2f(l) : kNegInf;
    }
  }
}

// grid (num_blocks_x, num_kv_heads): a persistent loop over the 64-row tiles of all prefill
// sequences, each sequence's last (heaviest) tile first.
template <typename T, int D>
__global__ void __launch_bounds__(kThreads, 2) prefill_kernel(const Params p) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* smem = reinterpret_cast<T*>(smem_raw);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int item = blockIdx.x;; item += gridDim.x) {
    // find the item's sequence: a warp-wide scan of the tile counts (every warp does the same)
    int seq = -1, tile = 0, base = 0;
    for (int s0 = 0; s0 < p.num_seqs && seq < 0; s0 += 32) {
      const int s = s0 + lane;
      int tiles = 0;
      if (s < p.num_seqs) {
        const int q_len = p.query_start[s + 1] - p.query_start[s];
        if (is_prefill_seq(q_len, p.group)) tiles = (q_len * p.group + kPrefillRows - 1) / kPrefillRows;
      }
      int incl = tiles;
#pragma unroll
      for (int o = 1; o < 32; o <<= 1) {
        const int v = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += v;
      }
      const unsigned hit = __ballot_sync(0xffffffffu, item < base + incl);
      if (hit) {
        const int src = __ffs(hit) - 1;
        seq = s0 + src;
        const int before = base + __shfl_sync(0xffffffffu, incl - tiles, src);
        const int count = __shfl_sync(0xffffffffu, tiles, src);
        tile = count - 1 - (item - before);  // last tile first
      }
      base += __shfl_sync(0xffffffffu, incl, 31);
    }
    if (seq < 0) return;
    const int q_begin = p.query_start[seq], q_len = p.query_start[seq + 1] - q_begin;
    const int ctx = p.context_lens[seq], first_pos = ctx - q_len, num_rows = q_len * p.group;
    const int row0 = tile * kPrefillRows;
    const int last_tok = min(num_rows - 1, row0 + kPrefillRows - 1) / p.group;
    Unit u{seq, static_cast<int>(blockIdx.y), row0, num_rows, q_begin, first_pos, 0, min(ctx, first_pos + last_tok + 1)};
    Acc<D> acc;
    run_unit<T, D, 4>(p, u, smem, acc);
#pragma unroll
    for (int i = 0; i < 2; i++) {
      const int r = row0 + warp * 16 + lane / 4 + 8 * i;
      if (r >= num_rows) continue;
      float* dst = out_row(p, u, r);
      const float inv = 1.0f / acc.l[i];
#pragma unroll
      for (int d = 0; d < D / 8; d++)
        *reinterpret_cast<float2*>(dst + d * 8 + (lane % 4) * 2) = make_float2(acc.o[d][2 * i] * inv,
                                                                               acc.o[d][2 * i + 1] * inv);
    }
    __syncthreads();  // the next item rewrites the q tile
  }
}

template <typename T, int D>
void decode_launch(const Params& p) {
  const size_t smem = Cfg<T, D, 1>::kSmemBytes;
  static_assert(sizeof(T) * 4 * Cfg<T, D, 1>::kKVElems >= (4 * 16 * D + 2 * 4 * 16) * sizeof(float),
                "the merge buffers must fit in the K/V stages");
  allow_dynamic_smem(reinterpret_cast<const void*>(decode_kernel<T, D>), smem);
  const dim3 grid(p.num_splits, p.num_kv_heads, p.num_seqs);
  decode_kernel<T, D><<<grid, kThreads, smem, current_stream()>>>(p);
  TPS_CUDA_CHECK_LAUNCH();
}

template <typename T, int D>
void prefill_launch(const Params& p, int num_blocks_x) {
  const size_t smem = Cfg<T, D, 4>::kSmemBytes;
  allow_dynamic_smem(reinterpret_cast<const void*>(prefill_kernel<T, D>), smem);
  const dim3 grid(num_blocks_x, p.num_kv_heads);
  prefill_kernel<T, D><<<grid, kThreads, smem, current_stream()>>>(p);
  TPS_CUDA_CHECK_LAUNCH();
}

template <typename F>
void dispatch(DType dtype, int head_dim, F&& f) {
  auto by_dim = [&](auto tag) {
    using T = decltype(tag);
    if (head_dim == 64) f(T{}, std::integral_constant<int, 64>{});
    else if (head_dim == 128) f(T{}, std::integral_constant<int, 128>{});
    else TPS_THROW("attention: no tensor-core kernel for head_dim ", head_dim);
  };
  if (dtype == DType::BF16) by_dim(__nv_bfloat16{});
  else if (dtype == DType::F16) by_dim(__half{});
  else TPS_THROW("attention: no tensor-core kernel for a ", dtype_name(dtype), " cache");
}

}  // namespace

bool mma_supported(DType cache_dtype, int head_dim) {
  return (cache_dtype == DType::BF16 || cache_dtype == DType::F16) && (head_dim == 64 || head_dim == 128);
}

void launch_mma_decode(const Params& p, DType cache_dtype) {
  dispatch(cache_dtype, p.head_dim, [&](auto tag, auto dim) { decode_launch<decltype(tag), decltype(dim)::value>(p); });
}

void launch_mma_prefill(const Params& p, DType cache_dtype, int num_blocks_x) {
  dispatch(cache_dtype, p.head_dim,
           [&](auto tag, auto dim) { prefill_launch<decltype(tag), decltype(dim)::value>(p, num_blocks_x); });
}

}  // namespace tpserve::cuda::attention_detail
