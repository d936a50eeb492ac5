// Fused q/k/v and gate/up projections: row-stacking of LinearWeights of any format and of their
// biases (see model/fused_projections.h).
#include "model/fused_projections.h"

#include <cstring>

namespace tpserve {
namespace {

// Tensors of one dtype and equal trailing dims stacked along dim 0 (a new CPU tensor).
Tensor concat_dim0(const std::vector<const Tensor*>& ts) {
  std::vector<int64_t> shape = ts[0]->shape();
  shape[0] = 0;
  for (const Tensor* t : ts) shape[0] += t->dim(0);
  Tensor out = Tensor::empty_cpu(ts[0]->dtype(), shape);
  char* dst = out.ptr<char>();
  for (const Tensor* t : ts) {
    std::memcpy(dst, t->data(), t->nbytes());
    dst += t->nbytes();
  }
  return out;
}

bool same_trailing(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  if (a.dtype() != b.dtype() || a.rank() != b.rank() || a.rank() < 1) return false;
  for (int64_t d = 1; d < a.rank(); d++)
    if (a.dim(d) != b.dim(d)) return false;
  return true;
}

bool same_perm(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  return !a.defined() || (a.nbytes() == b.nbytes() && std::memcmp(a.data(), b.data(), a.nbytes()) == 0);
}

bool can_fuse(const std::vector<const LinearWeight*>& parts) {
  if (parts.size() < 2) return false;
  const LinearWeight& a = *parts[0];
  for (const LinearWeight* p : parts) {
    if (!p->defined() || !p->weight.device().is_cpu()) return false;
    if (p->format != a.format || p->in_features() != a.in_features() || p->group_size != a.group_size) return false;
    if (!same_trailing(p->weight, a.weight) || !same_trailing(p->scales, a.scales) ||
        !same_trailing(p->zeros, a.zeros) || !same_perm(p->perm, a.perm))
      return false;
  }
  return true;
}

std::vector<const Tensor*> field(const std::vector<const LinearWeight*>& parts, Tensor LinearWeight::*member) {
  std::vector<const Tensor*> out;
  for (const LinearWeight* p : parts) out.push_back(&(p->*member));
  return out;
}

// Fuses parts into *fused (+ *fused_bias) and empties them; false (nothing changed) when it cannot.
bool fuse(const std::vector<LinearWeight*>& parts, const std::vector<Tensor*>& biases, LinearWeight* fused,
          Tensor* fused_bias) {
  std::vector<const LinearWeight*> in(parts.begin(), parts.end());
  LinearWeight w = concat_weight_rows(in);
  if (!w.defined()) return false;
  std::vector<int64_t> rows;
  for (const LinearWeight* p : parts) rows.push_back(p->out_features());
  *fused_bias = concat_biases(std::vector<const Tensor*>(biases.begin(), biases.end()), rows);
  *fused = std::move(w);
  for (LinearWeight* p : parts) *p = LinearWeight();
  for (Tensor* b : biases) *b = Tensor();
  return true;
}

}  // namespace

LinearWeight concat_weight_rows(const std::vector<const LinearWeight*>& parts) {
  if (!can_fuse(parts)) return LinearWeight();
  LinearWeight out = *parts[0];
  out.weight = concat_dim0(field(parts, &LinearWeight::weight));
  if (out.scales.defined()) out.scales = concat_dim0(field(parts, &LinearWeight::scales));
  if (out.zeros.defined()) out.zeros = concat_dim0(field(parts, &LinearWeight::zeros));
  if (out.is_quantized()) {
    out.rows = 0;
    for (const LinearWeight* p : parts) out.rows += p->out_features();
  }
  return out;
}

Tensor concat_biases(const std::vector<const Tensor*>& biases, const std::vector<int64_t>& rows) {
  TPS_CHECK(biases.size() == rows.size(), "concat_biases: ", biases.size(), " biases for ", rows.size(), " parts");
  bool any = false;
  int64_t total = 0;
  for (size_t i = 0; i < biases.size(); i++) {
    any = any || biases[i]->defined();
    total += rows[i];
    TPS_CHECK(!biases[i]->defined() || biases[i]->numel() == rows[i], "concat_biases: bias ", i, " has ",
              biases[i]->numel(), " elements for ", rows[i], " rows");
  }
  if (!any) return Tensor();
  Tensor out = Tensor::empty_cpu(DType::F32, {total});  // zero-filled: parts without a bias add 0
  float* dst = out.ptr<float>();
  for (size_t i = 0; i < biases.size(); i++) {
    const Tensor* b = biases[i];
    if (b->defined())
      for (int64_t j = 0; j < rows[i]; j++) dst[j] = load_as_float(b->data(), b->dtype(), static_cast<size_t>(j));
    dst += rows[i];
  }
  return out;
}

void fuse_layer_projections(LayerWeights& l) {
  fuse({&l.q_proj, &l.k_proj, &l.v_proj}, {&l.q_bias, &l.k_bias, &l.v_bias}, &l.qkv_proj, &l.qkv_bias);
  fuse({&l.gate_proj, &l.up_proj}, {&l.gate_bias, &l.up_bias}, &l.gate_up_proj, &l.gate_up_bias);
}

}  // namespace tpserve
