// Decoder forward pass: embedding → layers (attention + SwiGLU MLP, pre-norm, residual) →
// final norm → vocab-parallel lm_head → logits all-gather.
#include "model/decoder.h"

#include <algorithm>
#include <cmath>

#include "model/fused_projections.h"
#include "model/op_profiler.h"

namespace tpserve {
namespace {

double elapsed_us(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - since).count();
}

Tensor upload_one(const Tensor& t, Backend& backend, const DType* dtype, bool force_f32) {
  if (!t.defined()) return t;
  DType target = force_f32 ? DType::F32 : (dtype ? *dtype : t.dtype());
  return backend.upload(t, target);
}

// Float weights convert to `dtype`; quantized ones go up in the backend's own layout.
LinearWeight upload_linear(const LinearWeight& w, Backend& backend, const DType* dtype) {
  if (!w.defined()) return w;
  if (!w.is_quantized()) return backend.upload_float_linear(w.weight, dtype ? *dtype : w.weight.dtype());
  return backend.upload_quantized(w);
}

}  // namespace

ModelWeights upload_weights(const ModelWeights& host, Backend& backend, const DType* dtype,
                            const std::function<void(int64_t, int64_t)>& progress, bool fuse_projections) {
  const int64_t total = static_cast<int64_t>(host.layers.size()) + 1;
  ModelWeights out = host;
  out.embed_tokens = upload_one(host.embed_tokens, backend, dtype, false);
  out.final_norm = upload_one(host.final_norm, backend, dtype, true);
  out.lm_head = host.lm_head.weight.data() == host.embed_tokens.data() ? LinearWeight(out.embed_tokens)
                                                                         : upload_linear(host.lm_head, backend, dtype);
  if (progress) progress(1, total);
  for (size_t i = 0; i < host.layers.size(); i++) {
    LayerWeights s = host.layers[i];  // views: the fused copies live only until uploaded
    if (fuse_projections) fuse_layer_projections(s);
    LayerWeights& d = out.layers[i];
    d.input_norm = upload_one(s.input_norm, backend, dtype, true);
    d.post_attention_norm = upload_one(s.post_attention_norm, backend, dtype, true);
    d.q_proj = upload_linear(s.q_proj, backend, dtype);
    d.k_proj = upload_linear(s.k_proj, backend, dtype);
    d.v_proj = upload_linear(s.v_proj, backend, dtype);
    d.o_proj = upload_linear(s.o_proj, backend, dtype);
    d.gate_proj = upload_linear(s.gate_proj, backend, dtype);
    d.up_proj = upload_linear(s.up_proj, backend, dtype);
    d.down_proj = upload_linear(s.down_proj, backend, dtype);
    d.qkv_proj = upload_linear(s.qkv_proj, backend, dtype);
    d.gate_up_proj = upload_linear(s.gate_up_proj, backend, dtype);
    d.qkv_bias = upload_one(s.qkv_bias, backend, dtype, true);
    d.gate_up_bias = upload_one(s.gate_up_bias, backend, dtype, true);
    d.q_bias = upload_one(s.q_bias, backend, dtype, true);
    d.k_bias = upload_one(s.k_bias, backend, dtype, true);
    d.v_bias = upload_one(s.v_bias, backend, dtype, true);
    d.o_bias = upload_one(s.o_bias, backend, dtype, true);
    d.gate_bias = upload_one(s.gate_bias, backend, dtype, true);
    d.up_bias = upload_one(s.up_bias, backend, dtype, true);
    d.down_bias = upload_one(s.down_bias, backend, dtype, true);
    if (progress) progress(static_cast<int64_t>(i) + 2, total);
  }
  return out;
}

Decoder::Decoder(ModelWeights weights, Backend& backend, Communicator& comm, KvCache& kv_cache)
    : weights_(std::move(weights)),
      backend_(backend),
      comm_(comm),
      kv_(kv_cache),
      rope_(backend, weights_.config.rope_inv_freq()) {}

void Decoder::ensure_workspace(int64_t t, int64_t r) {
  const ModelConfig& c = weights_.config;
  const ShardGeometry& s = weights_.shard;
  if (t > capacity_tokens_) {
    int64_t cap = std::max<int64_t>(t, capacity_tokens_ * 2);
    x_ = backend_.alloc(DType::F32, {cap, c.hidden_size});               // residual stream
    h_ = backend_.alloc(DType::F32, {cap, c.hidden_size});               // normed input
    o_ = backend_.alloc(DType::F32, {cap, c.hidden_size});               // row-parallel outputs
    q_ = backend_.alloc(DType::F32, {cap, s.num_q_heads * c.head_dim});
    attn_ = backend_.alloc(DType::F32, {cap, s.num_q_heads * c.head_dim});
    k_ = backend_.alloc(DType::F32, {cap, s.num_kv_heads * c.head_dim});
    v_ = backend_.alloc(DType::F32, {cap, s.num_kv_heads * c.head_dim});
    gate_ = backend_.alloc(DType::F32, {cap, s.intermediate});
    up_ = backend_.alloc(DType::F32, {cap, s.intermediate});
    qkv_ = backend_.alloc(DType::F32, {cap, (s.num_q_heads + 2 * s.num_kv_heads) * c.head_dim});
    gate_up_ = backend_.alloc(DType::F32, {cap, 2 * s.intermediate});
    capacity_tokens_ = cap;
    buffers_generation_++;
  }
  if (r > capacity_logits_) {
    int64_t cap = std::max<int64_t>(r, capacity_logits_ * 2);
    int64_t padded = (c.vocab_size + comm_.size() - 1) / comm_.size();
    last_hidden_ = backend_.alloc(DType::F32, {cap, c.hidden_size});
    if (comm_.size() > 1) {
      local_logits_ = backend_.alloc(DType::F32, {cap, s.vocab_rows});
      padded_logits_ = backend_.alloc(DType::F32, {cap, padded});
      gathered_logits_ = backend_.alloc(DType::F32, {comm_.size(), cap, padded});
    }
    logits_ = backend_.alloc(DType::F32, {cap, c.vocab_size});
    capacity_logits_ = cap;
    buffers_generation_++;
  }
}

void Decoder::upload_metadata(const ForwardBatch& b) {
  // int32 metadata lives in F32-typed buffers of the same width (the backends allocate by dtype).
  auto put = [&](Tensor& dst, const std::vector<int32_t>& src) {
    if (!dst.defined() || dst.numel() < static_cast<int64_t>(src.size())) {
      dst = backend_.alloc(DType::F32, {std::max<int64_t>(static_cast<int64_t>(src.size()) * 2, 16)});
      buffers_generation_++;
    }
    backend_.copy_to_device(dst.data(), src.data(), src.size() * sizeof(int32_t));
  };
  put(ids_, b.token_ids);
  put(positions_, b.positions);
  put(slots_, b.slots);
  put(query_start_, b.query_start);
  put(context_lens_, b.context_lens);
  put(block_tables_, b.block_tables);
  put(logits_rows_, b.logits_rows);
  // Rotary cos/sin come from the table rows of the positions: grow it past the largest one.
  if (rope_.ensure(*std::max_element(b.positions.begin(), b.positions.end()))) buffers_generation_++;
  attention_batch_.num_seqs = b.num_seqs();
  attention_batch_.query_start = query_start_.ptr<int32_t>();
  attention_batch_.context_lens = context_lens_.ptr<int32_t>();
  attention_batch_.block_tables = block_tables_.ptr<int32_t>();
  attention_batch_.max_blocks_per_seq = b.max_blocks_per_seq;
  attention_batch_.max_query_len = 0;
  for (size_t i = 0; i + 1 < b.query_start.size(); i++)
    attention_batch_.max_query_len =
        std::max<int64_t>(attention_batch_.max_query_len, b.query_start[i + 1] - b.query_start[i]);
}

void Decoder::all_reduce(float* data, int64_t count) {
  if (comm_.size() == 1) return;
  auto start = std::chrono::steady_clock::now();
  comm_.all_reduce_sum(data, count);
  collective_us_ += elapsed_us(start);
}

void Decoder::split_columns(const float* fused, int64_t t, std::initializer_list<ColumnPart> parts) {
  int64_t width = 0;
  for (const ColumnPart& p : parts) width += p.cols;
  int64_t begin = 0;
  for (const ColumnPart& p : parts) {
    // One row is already [part 0 | part 1 | ...]: point into it. More rows: copy each part out.
    if (t == 1) *p.dst = const_cast<float*>(fused) + begin;
    else
      backend_.copy_2d(*p.dst, p.cols * sizeof(float), fused + begin, width * sizeof(float), p.cols * sizeof(float),
                       static_cast<size_t>(t));
    begin += p.cols;
  }
}

void Decoder::layer_forward(int64_t li, int64_t t) {
  const ModelConfig& c = weights_.config;
  const ShardGeometry& s = weights_.shard;
  const LayerWeights& w = weights_.layers[li];
  auto bias = [](const Tensor& x) { return x.defined() ? &x : nullptr; };
  float* x = x_.ptr<float>();
  float* h = h_.ptr<float>();
  float* o = o_.ptr<float>();
  const int64_t hidden = c.hidden_size;
  const float eps = static_cast<float>(c.rms_norm_eps);

  // Attention block. h = input_norm(x): layer 0 norms here, later layers get h from the
  // previous layer's residual add fused with this norm.
  {
    OpProfiler::Scope op(profiler_, "norm");
    if (li == 0) backend_.rms_norm(x, w.input_norm, eps, t, hidden, h);
  }
  const int64_t nq = s.num_q_heads * c.head_dim, nkv = s.num_kv_heads * c.head_dim;
  float *q = q_.ptr<float>(), *k = k_.ptr<float>(), *v = v_.ptr<float>();
  if (w.qkv_proj.defined()) {
    OpProfiler::Scope op(profiler_, "linear_qkv");
    // fused: qkv_ rows are [q | k | v]; one token reads them in place, more are split by rows
    backend_.linear(h, w.qkv_proj, bias(w.qkv_bias), t, qkv_.ptr<float>());
    split_columns(qkv_.ptr<float>(), t, {{nq, &q}, {nkv, &k}, {nkv, &v}});
  } else {
    OpProfiler::Scope op(profiler_, "linear_qkv");
    backend_.linear(h, w.q_proj, bias(w.q_bias), t, q);
    backend_.linear(h, w.k_proj, bias(w.k_bias), t, k);
    backend_.linear(h, w.v_proj, bias(w.v_bias), t, v);
  }
  {
    OpProfiler::Scope op(profiler_, "rope_kv_write");
    backend_.rope_kv_write(q, k, v, rope_.cos(), rope_.sin(), positions_.ptr<int32_t>(), slots_.ptr<int32_t>(), t,
                           s.num_q_heads, kv_.layout(), kv_.k(li), kv_.v(li), kv_.dtype());
  }
  {
    OpProfiler::Scope op(profiler_, "attention");
    backend_.paged_attention(q, kv_.k(li), kv_.v(li), kv_.dtype(), attention_batch_, kv_.layout(), s.num_q_heads,
                             static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_dim))), attn_.ptr<float>());
  }
  {
    OpProfiler::Scope op(profiler_, "linear_o");
    backend_.linear(attn_.ptr<float>(), w.o_proj, nullptr, t, o);
  }
  all_reduce(o, t * hidden);
  if (w.o_bias.defined()) backend_.add_bias(o, w.o_bias, t);  // once, after the reduce
  {
    OpProfiler::Scope op(profiler_, "norm");
    backend_.add_rms_norm(x, o, w.post_attention_norm, eps, t, hidden, h);  // x += o; h = norm(x)
  }

  // MLP block.
  float *gate = gate_.ptr<float>(), *up = up_.ptr<float>();
  if (w.gate_up_proj.defined()) {
    OpProfiler::Scope op(profiler_, "linear_gate_up");
    backend_.linear(h, w.gate_up_proj, bias(w.gate_up_bias), t, gate_up_.ptr<float>());
    split_columns(gate_up_.ptr<float>(), t, {{s.intermediate, &gate}, {s.intermediate, &up}});
  } else {
    OpProfiler::Scope op(profiler_, "linear_gate_up");
    backend_.linear(h, w.gate_proj, bias(w.gate_bias), t, gate);
    backend_.linear(h, w.up_proj, bias(w.up_bias), t, up);
  }
  {
    OpProfiler::Scope op(profiler_, "silu_mul");
    backend_.silu_mul(gate, up, t * s.intermediate, gate_.ptr<float>());
  }
  {
    OpProfiler::Scope op(profiler_, "linear_down");
    backend_.linear(gate_.ptr<float>(), w.down_proj, nullptr, t, o);
  }
  all_reduce(o, t * hidden);
  if (w.down_bias.defined()) backend_.add_bias(o, w.down_bias, t);
  // x += o, fused with the next layer's input norm; the last layer's x goes to the final norm.
  OpProfiler::Scope op(profiler_, "norm");
  if (li + 1 < c.num_hidden_layers)
    backend_.add_rms_norm(x, o, weights_.layers[li + 1].input_norm, eps, t, hidden, h);
  else
    backend_.add(x, o, t * hidden, x);
}

void Decoder::compute_logits(int64_t r) {
  const ModelConfig& c = weights_.config;
  const ShardGeometry& s = weights_.shard;
  // Gather the wanted rows of the residual stream (an f32 "embedding" lookup over x).
  Tensor x_table(x_.data(), DType::F32, {capacity_tokens_, c.hidden_size}, x_.device());
  backend_.embedding(x_table, logits_rows_.ptr<int32_t>(), r, 0, last_hidden_.ptr<float>());
  backend_.rms_norm(last_hidden_.ptr<float>(), weights_.final_norm, static_cast<float>(c.rms_norm_eps), r,
                    c.hidden_size, last_hidden_.ptr<float>());
  const int64_t tp = comm_.size();
  OpProfiler::Scope op(profiler_, "lm_head");
  if (tp == 1) {
    backend_.linear(last_hidden_.ptr<float>(), weights_.lm_head, nullptr, r, logits_.ptr<float>());
    return;
  }
  // Vocab-parallel: rank k holds rows [k * padded, k * padded + vocab_rows); pad each rank's
  // [r, vocab_rows] block to [r, padded] so the all-gather moves equal counts.
  const int64_t padded = (c.vocab_size + tp - 1) / tp;
  backend_.linear(last_hidden_.ptr<float>(), weights_.lm_head, nullptr, r, local_logits_.ptr<float>());
  backend_.copy_2d(padded_logits_.data(), padded * sizeof(float), local_logits_.data(), s.vocab_rows * sizeof(float),
                   s.vocab_rows * sizeof(float), static_cast<size_t>(r));
  auto start = std::chrono::steady_clock::now();
  comm_.all_gather(padded_logits_.ptr<float>(), r * padded, gathered_logits_.ptr<float>());
  collective_us_ += elapsed_us(start);
  // gathered: [tp, r, padded] → logits: [r, vocab]; rank k's columns start at k * padded.
  for (int64_t k = 0; k < tp; k++) {
    int64_t begin = k * padded;
    int64_t width = std::min(padded, c.vocab_size - begin);
    if (width <= 0) break;
    backend_.copy_2d(logits_.ptr<float>() + begin, c.vocab_size * sizeof(float),
                     gathered_logits_.ptr<float>() + k * r * padded, padded * sizeof(float), width * sizeof(float),
                     static_cast<size_t>(r));
  }
}

void Decoder::stage(const ForwardBatch& b) {
  const int64_t t = b.num_tokens();
  const int64_t r = static_cast<int64_t>(b.logits_rows.size());
  TPS_CHECK(t > 0, "a forward pass needs at least one token");
  ensure_workspace(t, std::max<int64_t>(r, 1));
  upload_metadata(b);
}

void Decoder::run(int64_t t, int64_t r) {
  const ModelConfig& c = weights_.config;
  {
    OpProfiler::Scope op(profiler_, "embedding");
    backend_.embedding(weights_.embed_tokens, ids_.ptr<int32_t>(), t, weights_.shard.vocab_begin, x_.ptr<float>());
  }
  all_reduce(x_.ptr<float>(), t * c.hidden_size);  // vocab-parallel embedding: each rank holds some rows
  for (int64_t li = 0; li < c.num_hidden_layers; li++) layer_forward(li, t);
  if (r > 0) compute_logits(r);
}

void Decoder::reserve(int64_t num_tokens, int64_t num_logits, int64_t num_seqs, int64_t max_blocks_per_seq) {
  ensure_workspace(num_tokens, num_logits);
  auto grow = [&](Tensor& dst, int64_t n) {
    if (dst.defined() && dst.numel() >= n) return;
    dst = backend_.alloc(DType::F32, {std::max<int64_t>(n, 16)});
    buffers_generation_++;
  };
  grow(ids_, num_tokens);
  grow(positions_, num_tokens);
  grow(slots_, num_tokens);
  grow(query_start_, num_seqs + 1);
  grow(context_lens_, num_seqs);
  grow(block_tables_, num_seqs * max_blocks_per_seq);
  grow(logits_rows_, num_logits);
  // The widest linear input: the hidden state, the attention output (o_proj) or the MLP (down_proj).
  const ModelConfig& c = weights_.config;
  const ShardGeometry& s = weights_.shard;
  const int64_t max_in = std::max({c.hidden_size, s.num_q_heads * c.head_dim, s.intermediate});
  backend_.reserve_scratch(std::max(num_tokens, num_logits), max_in, c.head_dim);
}

const float* Decoder::forward(const ForwardBatch& b, ForwardTimings* timings) {
  auto start = std::chrono::steady_clock::now();
  collective_us_ = 0;
  TPS_CHECK(b.num_tokens() > 0, "a forward pass needs at least one token");
  if (!decode_runner_ || !decode_runner_->try_forward(*this, b)) {
    {
      OpProfiler::Scope op(profiler_, "stage");
      stage(b);
    }
    run(b.num_tokens(), static_cast<int64_t>(b.logits_rows.size()));
  }
  backend_.synchronize();
  profiler_.end_pass(b.num_tokens(), elapsed_us(start));
  if (timings) {
    timings->collective_us = collective_us_;
    timings->forward_us = elapsed_us(start);
  }
  return logits_.ptr<float>();
}

}  // namespace tpserve
