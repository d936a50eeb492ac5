// The GPU sampler kernel: one block per sequence, the CPU sampler's definition (docs/sampling.md)
// without sorting the vocabulary. Every filter keeps a prefix of the order "higher value first,
// ties by lower id", encoded as an ascending 64-bit key (~ordered(value) << 32 | id). Ids are
// counted into the CPU's buckets (1/32 nat below the max, 64 nats, then one overflow bucket)
// with their mass; a cut or the draw walks the bucket prefix sums, then resolves inside the one
// bucket it lands in: the bucket's keys are sorted in shared memory (bisecting its key range
// first while it holds more than kCap ids). Masses are fixed-point integers (2^shift per unit
// weight), so sums are exact and independent of the order of the atomics.
#include <cfloat>

#include "kernels/cuda/device_utils.cuh"
#include "kernels/cuda/sample_internal.cuh"
#include "kernels/cuda/stream.cuh"
#include "tpserve/sampling.h"

namespace tpserve::cuda::sampler_detail {
namespace {

constexpr int kThreads = 512, kWarps = kThreads / 32;
constexpr int kCap = 4096;  // keys sorted at once in shared memory
constexpr int kBinsPerNat = 32, kBins = 64 * kBinsPerNat + 1;
constexpr float kMaxBinnedNats = 64.0f;
constexpr float kGreedyTemperature = 1e-5f;
constexpr size_t kSmemBytes = kCap * 8 + (kBins + 1) * 8 + ((kBins + 1) * 4 + 15) / 16 * 16;

using u64 = unsigned long long;

__device__ __forceinline__ u64 make_key(float v, int id) {
  const uint32_t u = __float_as_uint(v);
  const uint32_t ord = (u & 0x80000000u) ? ~u : (u | 0x80000000u);  // ascending with v
  return (static_cast<u64>(~ord) << 32) | static_cast<uint32_t>(id);
}
__device__ __forceinline__ int key_id(u64 key) { return static_cast<int>(key & 0xffffffffu); }

// The ids [0, n) of one row seen through a max and a temperature.
struct View {
  const float* y;
  int n;
  float max, temp;
  int shift;  // fixed-point bits of the masses
  __device__ float nats(int i) const { return (max - y[i]) / temp; }  // CPU: (max - y) / T, w = exp(-nats)
  __device__ static int bin(float nats) {
    return nats < kMaxBinnedNats ? static_cast<int>(nats * kBinsPerNat) : kBins - 1;
  }
  __device__ u64 weight(float nats) const { return __double2ull_rn(ldexp(static_cast<double>(expf(-nats)), shift)); }
};

struct Shared {
  u64 red_u[kWarps];
  double red_d[kWarps];
  float red_f[kWarps];
  int red_i[kWarps];
  int count;     // compaction cursor
  int error, error_arg;
  int found, found_pos;
  u64 found_key, found_cum;
};

// Bucket histogram of v: cnt/mass become exclusive prefix sums over kBins + 1 entries.
__device__ void histogram(const View& v, int* cnt, u64* mass, bool with_mass) {
  for (int b = threadIdx.x; b <= kBins; b += kThreads) cnt[b] = 0, mass[b] = 0;
  __syncthreads();
  for (int base = 0; base < v.n; base += kThreads) {
    const int i = base + threadIdx.x;
    const bool valid = i < v.n;
    const float nats = valid ? v.nats(i) : 0.f;
    const int b = valid ? View::bin(nats) : -1;
    const unsigned peers = __match_any_sync(0xffffffffu, b);
    if (valid && (threadIdx.x & 31) == __ffs(peers) - 1) atomicAdd(&cnt[b], __popc(peers));
    if (valid && with_mass) {
      const u64 w = v.weight(nats);
      if (w) atomicAdd(&mass[b], w);
    }
  }
  __syncthreads();
  if (threadIdx.x < 32) {  // one warp: exclusive scan of both arrays
    const int lane = threadIdx.x;
    int carry_c = 0;
    u64 carry_m = 0;
    for (int c0 = 0; c0 < kBins; c0 += 32) {
      const int b = c0 + lane;
      const int c = b < kBins ? cnt[b] : 0;
      const u64 m = b < kBins ? mass[b] : 0;
      int ic = c;
      u64 im = m;
#pragma unroll
      for (int o = 1; o < 32; o <<= 1) {
        const int tc = __shfl_up_sync(0xffffffffu, ic, o);
        const u64 tm = __shfl_up_sync(0xffffffffu, im, o);
        if (lane >= o) ic += tc, im += tm;
      }
      if (b < kBins) cnt[b] = carry_c + ic - c, mass[b] = carry_m + im - m;
      carry_c += __shfl_sync(0xffffffffu, ic, 31);
      carry_m += __shfl_sync(0xffffffffu, im, 31);
    }
    if (lane == 0) cnt[kBins] = carry_c, mass[kBins] = carry_m;
  }
  __syncthreads();
}

// The bucket holding position pos: the last b with cnt[b] <= pos.
__device__ int bin_of_position(const int* cnt, int pos) {
  int lo = 0, hi = kBins - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (cnt[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
// The first bucket whose inclusive mass reaches target (>=, or > when strict); kBins if none.
__device__ int bin_of_mass(const u64* mass, double target, bool strict) {
  int lo = 0, hi = kBins;
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    const double m = static_cast<double>(mass[mid + 1]);
    if (strict ? m > target : m >= target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

struct Query {
  int mode;      // kIndex: the element at position `index`; kMassGe / kMassGt: first with cum >= / > target
  int index;
  double target;  // fixed-point units
};
enum { kIndex = 0, kMassGe = 1, kMassGt = 2 };

struct Found {
  bool ok;
  int pos;
  u64 key;
  u64 cum;  // inclusive mass through pos (fixed point)
};

__device__ bool mass_hit(u64 cum, const Query& q) {
  const double c = static_cast<double>(cum);
  return q.mode == kMassGe ? c >= q.target : c > q.target;
}

// Resolves q inside bucket b (positions [cnt[b], cnt[b + 1])).
__device__ Found find_in_bin(const View& v, int b, const int* cnt, const u64* mass, const Query& q, u64* buf,
                             Shared& sh) {
  u64 klo = 0, khi = ~0ull;
  int num = cnt[b + 1] - cnt[b], pos_below = cnt[b];
  u64 mass_below = mass[b];
  bool first = true;
  while (num > kCap) {  // bisect the key range down to kCap ids
    if (first) {
      u64 mn = ~0ull, mx = 0;
      for (int i = threadIdx.x; i < v.n; i += kThreads)
        if (View::bin(v.nats(i)) == b) {
          const u64 k = make_key(v.y[i], i);
          mn = min(mn, k), mx = max(mx, k);
        }
      mn = block_reduce(mn, sh.red_u, [](u64 a, u64 c) { return min(a, c); });
      mx = block_reduce(mx, sh.red_u, [](u64 a, u64 c) { return max(a, c); });
      klo = mn, khi = mx + 1, first = false;
    }
    const u64 pivot = max(klo + 1, klo + (khi - klo) / 2);
    int c = 0;
    u64 s = 0;
    for (int i = threadIdx.x; i < v.n; i += kThreads) {
      const float nats = v.nats(i);
      if (View::bin(nats) != b) continue;
      const u64 k = make_key(v.y[i], i);
      if (k >= klo && k < pivot) c++, s += v.weight(nats);
    }
    c = block_reduce(c, sh.red_i, Sum{});
    s = block_reduce(s, sh.red_u, Sum{});
    const bool left = q.mode == kIndex ? pos_below + c > q.index : mass_hit(mass_below + s, q);
    if (left) {
      khi = pivot, num = c;
    } else {
      klo = pivot, num -= c, pos_below += c, mass_below += s;
    }
  }
  // compact the bracket, sort it, scan it in order
  if (threadIdx.x == 0) sh.count = 0;
  __syncthreads();
  for (int i = threadIdx.x; i < v.n; i += kThreads) {
    if (View::bin(v.nats(i)) != b) continue;
    const u64 k = make_key(v.y[i], i);
    if (k >= klo && k < khi) buf[atomicAdd(&sh.count, 1)] = k;
  }
  __syncthreads();
  int size = 1;
  while (size < num) size <<= 1;
  for (int i = num + threadIdx.x; i < size; i += kThreads) buf[i] = ~0ull;
  __syncthreads();
  for (int k = 2; k <= size; k <<= 1)
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = threadIdx.x; i < size; i += kThreads) {
        const int ixj = i ^ j;
        if (ixj > i) {
          const u64 a = buf[i], c = buf[ixj];
          if ((a > c) == ((i & k) == 0)) buf[i] = c, buf[ixj] = a;
        }
      }
      __syncthreads();
    }
  if (threadIdx.x < 32) {
    const int lane = threadIdx.x;
    u64 carry = mass_below;
    bool done = false;
    for (int j0 = 0; j0 < num && !done; j0 += 32) {
      const int j = j0 + lane;
      const u64 k = j < num ? buf[j] : 0;
      const u64 w = j < num ? v.weight(v.nats(key_id(k))) : 0;
      u64 incl = w;
#pragma unroll
      for (int o = 1; o < 32; o <<= 1) {
        const u64 t = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += t;
      }
      const u64 cum = carry + incl;
      const bool hit = j < num && (q.mode == kIndex ? pos_below + j == q.index : mass_hit(cum, q));
      const unsigned hits = __ballot_sync(0xffffffffu, hit);
      if (hits) {
        if (lane == __ffs(hits) - 1) sh.found = 1, sh.found_pos = pos_below + j, sh.found_key = k, sh.found_cum = cum;
        done = true;
      }
      carry += __shfl_sync(0xffffffffu, incl, 31);
    }
    if (!done && lane == 0) sh.found = 0;
  }
  __syncthreads();
  Found f{sh.found != 0, sh.found_pos, sh.found_key, sh.found_cum};
  __syncthreads();  // sh.found* and buf are reused by the next call
  return f;
}

// The element at position pos (0 <= pos < n) and the mass through it.
__device__ Found at_position(const View& v, int pos, const int* cnt, const u64* mass, u64* buf, Shared& sh) {
  return find_in_bin(v, bin_of_position(cnt, pos), cnt, mass, Query{kIndex, pos, 0.0}, buf, sh);
}

// The first position below `limit` whose inclusive mass reaches target; none: ok = false.
__device__ Found cross(const View& v, double target, bool strict, int limit, const int* cnt, const u64* mass,
                       u64* buf, Shared& sh) {
  const int b = bin_of_mass(mass, target, strict);
  if (b >= kBins || cnt[b] >= limit) return Found{false, 0, 0, 0};
  Found f = find_in_bin(v, b, cnt, mass, Query{strict ? kMassGt : kMassGe, 0, target}, buf, sh);
  if (f.pos >= limit) f.ok = false;
  return f;
}

__global__ void __launch_bounds__(kThreads) sample_kernel(const Args a) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  u64* buf = reinterpret_cast<u64*>(smem_raw);    // [kCap]
  u64* mass = buf + kCap;                          // [kBins + 1]
  int* cnt = reinterpret_cast<int*>(mass + kBins + 1);  // [kBins + 1]
  __shared__ Shared sh;
  const int seq = blockIdx.x;
  const SeqDesc d = a.seqs[seq];
  float* row = a.logits + static_cast<int64_t>(seq) * a.vocab_size;
  const int n = d.n;
  if (threadIdx.x == 0) sh.error = kOk, sh.error_arg = 0;
  __syncthreads();

  // 1. raw logprobs: normaliser and the best num_top_logprobs ids of the unpenalised logits
  double lse = 0.0;
  if (d.num_top_logprobs >= 0) {
    float mx = -FLT_MAX;
    for (int i = threadIdx.x; i < n; i += kThreads) mx = fmaxf(mx, row[i]);
    mx = block_reduce(mx, sh.red_f, [](float x, float y) { return fmaxf(x, y); });
    double s = 0.0;
    for (int i = threadIdx.x; i < n; i += kThreads) s += static_cast<double>(expf(row[i] - mx));
    s = block_reduce(s, sh.red_d, Sum{});
    lse = static_cast<double>(mx) + log(s);
    const int k = min(d.num_top_logprobs, n);
    if (k > 0) {
      const View raw{row, n, mx, 1.0f, 0};
      histogram(raw, cnt, mass, false);
      const u64 kth = at_position(raw, k - 1, cnt, mass, buf, sh).key;
      const int last_bin = bin_of_position(cnt, k - 1);
      if (threadIdx.x == 0) sh.count = 0;
      __syncthreads();
      for (int i = threadIdx.x; i < n; i += kThreads) {
        if (View::bin(raw.nats(i)) > last_bin) continue;
        const u64 key = make_key(row[i], i);
        if (key <= kth) buf[atomicAdd(&sh.count, 1)] = key;
      }
      __syncthreads();
      // exactly k keys: rank each by counting the smaller ones (k <= kMaxTopLogprobs)
      for (int j = threadIdx.x; j < k; j += kThreads) {
        const u64 key = buf[j];
        int rank = 0;
        for (int t = 0; t < k; t++) rank += buf[t] < key;
        const int id = key_id(key);
        a.top_ids[static_cast<int64_t>(seq) * a.max_top + rank] = id;
        a.top_logprobs[static_cast<int64_t>(seq) * a.max_top + rank] = static_cast<float>(row[id] - lse);
      }
      __syncthreads();
    }
  }

  // 2. penalties, in place (history ids are distinct); originals kept for the restore
  for (int h = d.hist_begin + threadIdx.x; h < d.hist_end; h += kThreads) {
    const int t = a.hist_tokens[h];
    if (t < 0 || t >= a.vocab_size) {
      sh.error = kBadHistoryToken, sh.error_arg = t;
      continue;
    }
    if (t >= n) continue;  // masked anyway
    const int count = a.hist_counts ? a.hist_counts[h] : 0;
    const bool in_prompt = a.hist_prompt && a.hist_prompt[h];
    float v = row[t];
    a.hist_orig[h] = v;
    if (d.repetition_penalty != 1.0f && (in_prompt || count > 0)) v = v > 0.0f ? v / d.repetition_penalty : v * d.repetition_penalty;
    if (count > 0) {
      v -= static_cast<float>(count) * d.frequency_penalty;
      v -= d.presence_penalty;
    }
    row[t] = v;
  }
  __syncthreads();

  // 3. argmax (ties to the lowest id), NaN and non-finite max checks
  float best_v = -INFINITY;
  int best_i = 0x7fffffff, has_nan = 0;
  for (int i = threadIdx.x; i < n; i += kThreads) {
    const float v = row[i];
    has_nan |= v != v;
    if (v > best_v || (v == best_v && i < best_i)) best_v = v, best_i = i;
  }
  has_nan = block_reduce(has_nan, sh.red_i, [](int x, int y) { return x | y; });
  const float max = block_reduce(best_v, sh.red_f, [](float x, float y) { return fmaxf(x, y); });
  best_i = block_reduce(best_v == max ? best_i : 0x7fffffff, sh.red_i, [](int x, int y) { return min(x, y); });
  if (threadIdx.x == 0 && sh.error == kOk && (has_nan || !isfinite(max))) sh.error = has_nan ? kNanLogits : kNonFiniteMax;
  __syncthreads();

  int token = best_i;
  if (sh.error == kOk && !(d.temperature < kGreedyTemperature || n == 1)) {
    // 4-6. filters and the draw over the order of y
    int shift = 62;
    for (int m = n; m > 0; m >>= 1) shift--;  // n * 2^shift < 2^62
    const View v{row, n, max, d.temperature, shift};
    histogram(v, cnt, mass, true);
    int zeros = 0;  // ids whose weight underflows to 0 (a suffix of the order): never drawn
    for (int i = threadIdx.x; i < n; i += kThreads) zeros += expf(-v.nats(i)) == 0.0f;
    zeros = block_reduce(zeros, sh.red_i, Sum{});
    const bool use_top_k = d.top_k > 0 && d.top_k < n;
    const int num_cand = use_top_k ? d.top_k : n;
    int kept = min(num_cand, n - zeros);
    u64 kept_mass = mass[kBins];
    if (use_top_k) kept_mass = at_position(v, num_cand - 1, cnt, mass, buf, sh).cum;
    const u64 top_k_mass = kept_mass;
    if (d.top_p < 1.0f) {  // smallest prefix whose mass reaches top_p (at least one token)
      const Found f = cross(v, static_cast<double>(d.top_p) * static_cast<double>(kept_mass), false, kept, cnt,
                            mass, buf, sh);
      if (f.ok) kept = f.pos + 1, kept_mass = f.cum;
    }
    if (d.min_p > 0.0f) {  // w >= min_p: a prefix too
      int c = 0;
      u64 s = 0;
      for (int i = threadIdx.x; i < n; i += kThreads) {
        const float nats = v.nats(i);
        if (expf(-nats) >= d.min_p) c++, s += v.weight(nats);
      }
      c = block_reduce(c, sh.red_i, Sum{});
      s = block_reduce(s, sh.red_u, Sum{});
      if (use_top_k && c > num_cand) c = num_cand, s = top_k_mass;
      if (c == 0) c = 1, s = 1ull << shift;  // min_p > 1: keep the max alone
      if (c < kept) kept = c, kept_mass = s;
    }
    const double u = sampler_uniform(d.seed, d.counter);
    const Found f = cross(v, u * static_cast<double>(kept_mass), true, kept, cnt, mass, buf, sh);
    token = key_id(f.ok ? f.key : at_position(v, kept - 1, cnt, mass, buf, sh).key);
  }

  // restore the raw logits, then report
  __syncthreads();
  for (int h = d.hist_begin + threadIdx.x; h < d.hist_end; h += kThreads) {
    const int t = a.hist_tokens[h];
    if (t >= 0 && t < n) row[t] = a.hist_orig[h];
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    SeqOut o;
    o.token = token;
    o.error = sh.error;
    o.error_arg = sh.error_arg;
    o.logprob = d.num_top_logprobs >= 0 ? static_cast<float>(row[token] - lse) : 0.0f;
    a.outs[seq] = o;
  }
}

}  // namespace

void launch_sample_kernel(const Args& args) {
  allow_dynamic_smem(reinterpret_cast<const void*>(sample_kernel), kSmemBytes);
  sample_kernel<<<args.num_seqs, kThreads, kSmemBytes, current_stream()>>>(args);
  TPS_CUDA_CHECK_LAUNCH();
}

}  // namespace tpserve::cuda::sampler_detail
