// Engine::step: validate the step, update per-sequence state, build the ForwardBatch (placeholders
// of a pipelined step become the tokens sampled last step), run the decoder, then (rank 0) sample,
// share the sampled ids with every rank when the step asks, and copy requested logits to the
// host. A per-sequence problem found by validate() is a SequenceError naming that sequence (the
// step then touched nothing).
#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "engine/engine_impl.h"
#include "engine/placeholder_tokens.h"
#include "tpserve/sequence_error.h"

namespace tpserve {
namespace {

double elapsed_us(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

void EngineImpl::validate(const StepInput& in) const {
  const int64_t vocab = info_.config.vocab_size;
  const int64_t bs = info_.kv_block_size;
  std::unordered_set<uint64_t> forgotten(in.finished.begin(), in.finished.end());
  std::unordered_set<uint64_t> added;
  for (const NewSequence& ns : in.new_sequences) {
    bool exists = seqs_.count(ns.seq_id) && !forgotten.count(ns.seq_id);
    TPS_CHECK_SEQ(!exists && added.insert(ns.seq_id).second, ns.seq_id, "step ", in.step_id, ": sequence ", ns.seq_id,
              " is already known (forget it first)");
    for (int32_t t : ns.prompt_tokens)
      TPS_CHECK_SEQ(t >= 0 && t < vocab, ns.seq_id, "sequence ", ns.seq_id, ": prompt token ", t, " outside the vocabulary [0, ",
                vocab, ")");
  }
  std::unordered_set<uint64_t> scheduled;
  for (const ScheduledSequence& s : in.scheduled) {
    TPS_CHECK_SEQ(scheduled.insert(s.seq_id).second, s.seq_id, "step ", in.step_id, ": sequence ", s.seq_id, " scheduled twice");
    const bool is_new = added.count(s.seq_id) > 0;
    auto it = seqs_.find(s.seq_id);
    TPS_CHECK_SEQ(is_new || (it != seqs_.end() && !forgotten.count(s.seq_id)), s.seq_id, "step ", in.step_id,
              ": unknown sequence ", s.seq_id);
    TPS_CHECK_SEQ(!s.tokens.empty(), s.seq_id, "step ", in.step_id, ": sequence ", s.seq_id, " scheduled with no tokens");
    const SequenceState* st = is_new ? nullptr : &it->second;
    for (size_t j = 0; j < s.tokens.size(); j++)
      check_step_token(s.seq_id, st, s.start_pos + static_cast<int64_t>(j), s.tokens[j], vocab);
    int64_t cached = st ? st->num_cached : 0;
    // A sequence's first chunk may start past 0: a prefix-cache hit (those blocks hold its KV).
    TPS_CHECK_SEQ(s.start_pos >= 0 && (s.start_pos == cached || (st == nullptr || cached == 0)), s.seq_id, "sequence ", s.seq_id,
              ": start_pos ", s.start_pos, " but ", cached, " tokens are cached");
    size_t table = (st ? st->block_table.size() : 0) + s.new_block_ids.size();
    int64_t needed = (s.start_pos + static_cast<int64_t>(s.tokens.size()) + bs - 1) / bs;
    TPS_CHECK_SEQ(static_cast<int64_t>(table) >= needed, s.seq_id, "sequence ", s.seq_id, ": ", needed, " KV blocks needed for ",
              s.start_pos + static_cast<int64_t>(s.tokens.size()), " tokens but its block table has ", table);
    for (int32_t b : s.new_block_ids)
      TPS_CHECK_SEQ(b >= 0 && b < info_.num_kv_blocks, s.seq_id, "sequence ", s.seq_id, ": KV block id ", b, " outside [0, ",
                info_.num_kv_blocks, ")");
  }
}

StepOutput EngineImpl::step(const StepInput& in) {
  validate(in);
  StepOutput out;
  out.step_id = in.step_id;
  for (uint64_t id : in.finished) seqs_.erase(id);
  for (const NewSequence& ns : in.new_sequences) {
    SequenceState st;
    st.params = ns.params;
    if (!ns.has_seed) st.params.seed = seed_source_();
    // recompute: prompt_tokens also holds the outputs so far, num_prompt_tokens says where they start
    st.num_prompt_tokens = ns.num_prompt_tokens > 0 ? ns.num_prompt_tokens : static_cast<int64_t>(ns.prompt_tokens.size());
    for (size_t i = 0; i < ns.prompt_tokens.size(); i++) st.register_token(static_cast<int64_t>(i), ns.prompt_tokens[i]);
    seqs_[ns.seq_id] = std::move(st);
  }
  if (in.scheduled.empty()) return out;

  const int64_t bs = info_.kv_block_size;
  ForwardBatch batch;
  std::vector<int32_t> sample_rows, logits_seq_rows;
  size_t max_blocks = 0;
  for (const ScheduledSequence& s : in.scheduled) {
    SequenceState& st = seqs_.at(s.seq_id);
    st.block_table.insert(st.block_table.end(), s.new_block_ids.begin(), s.new_block_ids.end());
    max_blocks = std::max(max_blocks, st.block_table.size());
    batch.query_start.push_back(static_cast<int32_t>(batch.token_ids.size()));
    for (size_t j = 0; j < s.tokens.size(); j++) {
      int64_t pos = s.start_pos + static_cast<int64_t>(j);
      const int32_t token = resolve_step_token(st, s.tokens[j]);
      batch.token_ids.push_back(token);
      batch.positions.push_back(static_cast<int32_t>(pos));
      batch.slots.push_back(static_cast<int32_t>(st.block_table[pos / bs] * bs + pos % bs));
      st.register_token(pos, token);
    }
    st.num_cached = s.start_pos + static_cast<int64_t>(s.tokens.size());
    batch.context_lens.push_back(static_cast<int32_t>(st.num_cached));
    if (s.sample) sample_rows.push_back(static_cast<int32_t>(batch.token_ids.size() - 1));
  }
  batch.query_start.push_back(static_cast<int32_t>(batch.token_ids.size()));
  batch.max_blocks_per_seq = static_cast<int64_t>(max_blocks);
  batch.block_tables.assign(in.scheduled.size() * max_blocks, 0);
  for (size_t i = 0; i < in.scheduled.size(); i++) {
    const auto& table = seqs_.at(in.scheduled[i].seq_id).block_table;
    std::copy(table.begin(), table.end(), batch.block_tables.begin() + static_cast<int64_t>(i * max_blocks));
  }
  // Logits rows: first one per sampled sequence, then those the caller asked to see.
  batch.logits_rows = sample_rows;
  for (size_t i = 0; i < in.scheduled.size(); i++) {
    const ScheduledSequence& s = in.scheduled[i];
    if (s.logits == LogitsMode::None) continue;
    int32_t end = batch.query_start[i + 1];
    int32_t begin = s.logits == LogitsMode::All ? batch.query_start[i] : end - 1;
    for (int32_t r = begin; r < end; r++) batch.logits_rows.push_back(r);
  }

  ForwardTimings timings;
  const float* logits = decoder_->forward(batch, &timings);
  out.forward_us = timings.forward_us;
  out.collective_us = timings.collective_us;
  if (is_driver_) sample(in, logits, out);
  if (in.share_samples) share_samples(in, out);
  if (!is_driver_) return out;

  const int64_t vocab = info_.config.vocab_size;
  size_t row = sample_rows.size();
  for (size_t i = 0; i < in.scheduled.size(); i++) {
    const ScheduledSequence& s = in.scheduled[i];
    if (s.logits == LogitsMode::None) continue;
    SequenceLogits sl;
    sl.seq_id = s.seq_id;
    sl.num_rows = s.logits == LogitsMode::All ? static_cast<int64_t>(s.tokens.size()) : 1;
    sl.data.resize(static_cast<size_t>(sl.num_rows * vocab));
    backend_->copy_to_host(sl.data.data(), logits + row * vocab, sl.data.size() * sizeof(float));
    row += static_cast<size_t>(sl.num_rows);
    out.logits.push_back(std::move(sl));
  }
  return out;
}

// Row r of the logits is the r-th sampled sequence; masked rows get -inf where not allowed.
void EngineImpl::apply_token_masks(const StepInput& in, const float* logits) {
  const int64_t vocab = info_.config.vocab_size;
  const int64_t words = (vocab + 31) / 32;
  std::vector<int32_t> rows;
  std::vector<uint32_t> masks;
  int32_t row = 0;
  for (const ScheduledSequence& s : in.scheduled) {
    if (!s.sample) continue;
    if (!s.token_bitmask.empty()) {
      TPS_CHECK(static_cast<int64_t>(s.token_bitmask.size()) == words, "step: sequence ", s.seq_id, " has a token mask of ",
                s.token_bitmask.size(), " words, expected ", words, " for vocab ", vocab);
      rows.push_back(row);
      masks.insert(masks.end(), s.token_bitmask.begin(), s.token_bitmask.end());
    }
    row++;
  }
  if (rows.empty()) return;
  // the logits buffer belongs to the decoder's step; the sampled rows are read only by sample()
  backend_->apply_token_mask(const_cast<float*>(logits), vocab, rows.data(), masks.data(),
                             static_cast<int64_t>(rows.size()), words);
}

void EngineImpl::sample(const StepInput& in, const float* logits, StepOutput& out) {
  auto start = std::chrono::steady_clock::now();
  std::vector<SamplingParams> params;
  std::vector<uint64_t> counters, seq_ids;
  std::vector<int32_t> history_start{0}, history_tokens, history_counts;
  std::vector<uint8_t> history_in_prompt;
  for (size_t i = 0; i < in.scheduled.size(); i++) {
    const ScheduledSequence& s = in.scheduled[i];
    if (!s.sample) continue;
    const SequenceState& st = seqs_.at(s.seq_id);
    params.push_back(st.params);
    counters.push_back(static_cast<uint64_t>(st.num_cached));  // position of the token drawn
    seq_ids.push_back(s.seq_id);
    for (const auto& [token, entry] : st.history) {
      history_tokens.push_back(token);
      history_counts.push_back(entry.first);
      history_in_prompt.push_back(entry.second ? 1 : 0);
    }
    history_start.push_back(static_cast<int32_t>(history_tokens.size()));
  }
  if (params.empty()) return;
  apply_token_masks(in, logits);
  SamplerBatch sb;
  sb.num_seqs = static_cast<int64_t>(params.size());
  sb.vocab_size = info_.config.vocab_size;
  sb.params = params.data();
  sb.rng_counters = counters.data();
  sb.history_start = history_start.data();
  sb.history_tokens = history_tokens.data();
  sb.history_output_counts = history_counts.data();
  sb.history_in_prompt = history_in_prompt.data();
  std::vector<SampleResult> results(params.size());
  backend_->sample(logits, sb, results.data());
  for (size_t i = 0; i < results.size(); i++) {
    SequenceState& st = seqs_.at(seq_ids[i]);
    st.register_token(st.num_cached, results[i].token);  // generated: counts for penalties
    st.sampled_pos = st.num_cached;
    st.sampled_token = results[i].token;
    out.samples.push_back({seq_ids[i], std::move(results[i])});
  }
  out.sampling_us = elapsed_us(start);
}

// Rank 0's sampled ids go to every rank (one broadcast of an int32 per sampled sequence, in
// the order of the scheduled entries), so that each rank can fill the placeholders of a step
// sent before this one's reply. A no-op on one rank; the other ranks learn the tokens (their
// penalty history too: it follows rank 0's, which is what a later recompute would see).
void EngineImpl::share_samples(const StepInput& in, StepOutput& out) {
  if (comm_->size() == 1) return;
  auto start = std::chrono::steady_clock::now();
  std::vector<uint64_t> seq_ids;
  for (const ScheduledSequence& s : in.scheduled)
    if (s.sample) seq_ids.push_back(s.seq_id);
  if (seq_ids.empty()) return;
  std::vector<int32_t> ids(seq_ids.size(), 0);
  if (is_driver_)
    for (size_t i = 0; i < out.samples.size(); i++) ids[i] = out.samples[i].result.token;
  const size_t bytes = ids.size() * sizeof(int32_t);
  // the collective reads device memory: stage the ids in a buffer kept across steps
  if (shared_ids_.data() == nullptr || shared_ids_.numel() < static_cast<int64_t>(ids.size()))
    shared_ids_ = backend_->alloc(DType::I32, {std::max<int64_t>(256, static_cast<int64_t>(ids.size()))});
  backend_->copy_to_device(shared_ids_.data(), ids.data(), bytes);
  comm_->broadcast(shared_ids_.data(), static_cast<int64_t>(bytes), 0);
  backend_->copy_to_host(ids.data(), shared_ids_.data(), bytes);
  if (!is_driver_) {
    for (size_t i = 0; i < seq_ids.size(); i++) {
      SequenceState& st = seqs_.at(seq_ids[i]);
      st.register_token(st.num_cached, ids[i]);
      st.sampled_pos = st.num_cached;
      st.sampled_token = ids[i];
    }
  }
  out.collective_us += elapsed_us(start);
}

}  // namespace tpserve
