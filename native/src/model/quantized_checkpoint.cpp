// GPTQ / AWQ / FP8 checkpoints: quantization_config parsing and the repacking of each layer's
// tensors into the engine's Int4 / Fp8 LinearWeights. Formats: see quantized_checkpoint.h.
// Tested by tests/quantized_checkpoint_test.cpp (checkpoints written there from the published layouts).
#include "model/quantized_checkpoint.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

namespace tpserve {
namespace {

using json = nlohmann::json;
using Method = CheckpointQuantization::Method;

[[noreturn]] void unsupported(const std::string& field, const json& value) {
  TPS_THROW("unsupported quantized checkpoint: quantization_config.", field, " = ", value.dump(),
            " (supported: gptq 4-bit, awq gemm 4-bit, fp8 / compressed-tensors 8-bit float weights)");
}

void parse_compressed_tensors(const json& qc, CheckpointQuantization& out) {
  if (qc.contains("format") && qc["format"] != "float-quantized") unsupported("format", qc["format"]);
  if (!qc.contains("config_groups") || !qc["config_groups"].is_object()) unsupported("config_groups", qc.value("config_groups", json()));
  for (const auto& [name, group] : qc["config_groups"].items()) {
    const json w = group.value("weights", json::object());
    const std::string at = "config_groups." + name + ".weights.";
    if (w.value("type", "") != "float") unsupported(at + "type", w.value("type", json()));
    if (w.value("num_bits", 0) != 8) unsupported(at + "num_bits", w.value("num_bits", json()));
    const std::string strategy = w.value("strategy", "");
    if (strategy != "tensor" && strategy != "channel") unsupported(at + "strategy", w.value("strategy", json()));
  }
  out.method = Method::Fp8;
}

int32_t int_at(const Tensor& t, int64_t i) { return t.ptr<const int32_t>()[i]; }
int nibble(int32_t word, int pos) { return static_cast<int>((static_cast<uint32_t>(word) >> (4 * pos)) & 15u); }

// AutoAWQ packs column order_map[i] into nibble i, order_map = 0 2 4 6 1 3 5 7: column j sits at kAwqPos[j].
constexpr int kAwqPos[8] = {0, 4, 1, 5, 2, 6, 3, 7};

void expect(const Checkpoint& ckpt, const std::string& name, const std::vector<int64_t>& shape, DType dtype) {
  ckpt.expect_shape(name, shape);
  TPS_CHECK(ckpt.info(name).dtype == dtype, "tensor ", name, " in file ", ckpt.info(name).file, " is ",
            dtype_name(ckpt.info(name).dtype), ", expected ", dtype_name(dtype));
}

// [k/g, n] group-major scales / zeros -> the engine's [n, ngroups] row-major, in stored column order.
LinearWeight int4_from(int64_t n, int64_t k, int64_t g, const std::vector<uint8_t>& q /* [n, k] */,
                       const std::vector<float>& scale /* [ng, n] */, const std::vector<float>& zero /* [ng, n] */,
                       const std::vector<int32_t>& group_of /* [k] stored column -> group */, const Tensor& perm) {
  const int64_t ng = k / g;
  LinearWeight w;
  w.format = WeightFormat::Int4;
  w.rows = n;
  w.cols = k;
  w.group_size = g;
  w.weight = Tensor::empty_cpu(DType::U8, {n, k / 2});
  w.scales = Tensor::empty_cpu(DType::F32, {n, ng});
  w.zeros = Tensor::empty_cpu(DType::F32, {n, ng});
  w.perm = perm;
  for (int64_t r = 0; r < n; r++) {
    uint8_t* dst = w.weight.ptr<uint8_t>() + r * (k / 2);
    for (int64_t c = 0; c < k; c += 2) dst[c / 2] = static_cast<uint8_t>(q[r * k + c] | (q[r * k + c + 1] << 4));
    for (int64_t j = 0; j < ng; j++) {
      const int64_t src = group_of[j * g];  // every stored column of group j has the same source group
      w.scales.ptr<float>()[r * ng + j] = scale[src * n + r];
      w.zeros.ptr<float>()[r * ng + j] = zero[src * n + r];
    }
  }
  return w;
}

std::vector<float> floats(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); i++) v[i] = load_as_float(t.data(), t.dtype(), i);
  return v;
}

// qzeros [ng, n/8] packed along n (AWQ's interleaved order or GPTQ's plain one) -> [ng, n] floats + offset.
std::vector<float> unpack_zeros(const Tensor& qz, int64_t ng, int64_t n, bool awq_order, int offset) {
  std::vector<float> zero(static_cast<size_t>(ng * n));
  for (int64_t j = 0; j < ng; j++)
    for (int64_t r = 0; r < n; r++) {
      const int pos = awq_order ? kAwqPos[r % 8] : static_cast<int>(r % 8);
      zero[j * n + r] = static_cast<float>(nibble(int_at(qz, j * (n / 8) + r / 8), pos) + offset);
    }
  return zero;
}

LinearWeight load_gptq(const Checkpoint& ckpt, const CheckpointQuantization& cq, const std::string& p, int64_t n,
                       int64_t k) {
  const int64_t g = cq.group_size, ng = k / g;
  const Tensor qw = ckpt.view(p + ".qweight");
  const std::vector<float> scale = floats(ckpt.view(p + ".scales"));
  const std::vector<float> zero = unpack_zeros(ckpt.view(p + ".qzeros"), ng, n, false, cq.zeros_minus_one ? 1 : 0);
  // source group of each input column: g_idx, or c / g
  std::vector<int32_t> src_group(static_cast<size_t>(k));
  const bool has_gidx = ckpt.has(p + ".g_idx");
  for (int64_t c = 0; c < k; c++)
    src_group[c] = has_gidx ? int_at(ckpt.view(p + ".g_idx"), c) : static_cast<int32_t>(c / g);
  // stored order: columns sorted by group (stable); identity unless act-order shuffled them
  std::vector<int32_t> order(static_cast<size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return src_group[a] < src_group[b]; });
  bool identity = true;
  std::vector<int32_t> group_of(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; j++) {
    identity = identity && order[j] == j;
    group_of[j] = src_group[order[j]];
    TPS_CHECK(group_of[j] >= 0 && group_of[j] < ng && group_of[j] == group_of[(j / g) * g], "tensor ", p,
              ".g_idx does not give every group exactly ", g, " columns");
  }
  std::vector<uint8_t> q(static_cast<size_t>(n * k));
  for (int64_t j = 0; j < k; j++) {
    const int64_t c = order[j];
    for (int64_t r = 0; r < n; r++) q[r * k + j] = static_cast<uint8_t>(nibble(int_at(qw, (c / 8) * n + r), static_cast<int>(c % 8)));
  }
  Tensor perm;
  if (!identity) {
    perm = Tensor::empty_cpu(DType::I32, {k});
    std::copy(order.begin(), order.end(), perm.ptr<int32_t>());
  }
  return int4_from(n, k, g, q, scale, zero, group_of, perm);
}

LinearWeight load_awq(const Checkpoint& ckpt, const CheckpointQuantization& cq, const std::string& p, int64_t n,
                      int64_t k) {
  const int64_t g = cq.group_size, ng = k / g;
  const Tensor qw = ckpt.view(p + ".qweight");
  const std::vector<float> scale = floats(ckpt.view(p + ".scales"));
  const std::vector<float> zero = unpack_zeros(ckpt.view(p + ".qzeros"), ng, n, true, 0);
  std::vector<uint8_t> q(static_cast<size_t>(n * k));
  for (int64_t c = 0; c < k; c++)
    for (int64_t r = 0; r < n; r++) q[r * k + c] = static_cast<uint8_t>(nibble(int_at(qw, c * (n / 8) + r / 8), kAwqPos[r % 8]));
  std::vector<int32_t> group_of(static_cast<size_t>(k));
  for (int64_t c = 0; c < k; c++) group_of[c] = static_cast<int32_t>(c / g);
  return int4_from(n, k, g, q, scale, zero, group_of, Tensor());
}

LinearWeight load_fp8(const Checkpoint& ckpt, const std::string& p, int64_t n) {
  LinearWeight w;
  w.format = WeightFormat::Fp8;
  w.weight = ckpt.view(p + ".weight");
  w.rows = n;
  w.cols = w.weight.dim(1);
  const std::vector<float> s = floats(ckpt.view(p + ".weight_scale"));
  w.scales = Tensor::empty_cpu(DType::F32, {n});
  for (int64_t r = 0; r < n; r++) w.scales.ptr<float>()[r] = s.size() == 1 ? s[0] : s[static_cast<size_t>(r)];
  return w;
}

}  // namespace

CheckpointQuantization read_checkpoint_quantization(const std::string& model_dir) {
  CheckpointQuantization out;
  std::ifstream in(model_dir + "/config.json", std::ios::binary);
  if (!in) return out;  // load_model_config reports a missing config
  const json config = json::parse(in, nullptr, false);
  if (config.is_discarded() || !config.contains("quantization_config")) return out;
  const json& qc = config["quantization_config"];
  TPS_CHECK(qc.is_object() && qc.contains("quant_method"), "config.json: quantization_config needs a quant_method");
  out.name = qc["quant_method"].is_string() ? qc["quant_method"].get<std::string>() : qc["quant_method"].dump();
  if (out.name == "gptq" || out.name == "awq") {
    if (qc.value("bits", 0) != 4) unsupported("bits", qc.value("bits", json()));
    const int64_t g = qc.value("group_size", qc.value("q_group_size", int64_t{0}));
    if (g != -1 && (g <= 0 || g % 32 != 0)) unsupported("group_size", qc.value("group_size", json()));
    out.group_size = g;
    if (out.name == "gptq") {
      out.method = Method::Gptq;
      out.desc_act = qc.value("desc_act", false);
      const std::string fmt = qc.value("checkpoint_format", "gptq");
      if (fmt != "gptq" && fmt != "gptq_v2") unsupported("checkpoint_format", qc["checkpoint_format"]);
      out.zeros_minus_one = fmt == "gptq";
    } else {
      out.method = Method::Awq;
      const std::string version = qc.value("version", "gemm");
      std::string lower(version);
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
      if (lower != "gemm") unsupported("version", qc["version"]);
      if (!qc.value("zero_point", true)) unsupported("zero_point", qc["zero_point"]);
    }
  } else if (out.name == "fp8") {
    if (qc.contains("weight_block_size") && !qc["weight_block_size"].is_null()) unsupported("weight_block_size", qc["weight_block_size"]);
    const std::string fmt = qc.value("fmt", "e4m3");
    if (fmt != "e4m3") unsupported("fmt", qc["fmt"]);
    out.method = Method::Fp8;
  } else if (out.name == "compressed-tensors") {
    parse_compressed_tensors(qc, out);
  } else {
    unsupported("quant_method", qc["quant_method"]);
  }
  return out;
}

void expect_quantized_linear(const Checkpoint& ckpt, const CheckpointQuantization& q, const std::string& p, int64_t n,
                             int64_t k) {
  if (q.method == Method::Fp8) {
    expect(ckpt, p + ".weight", {n, k}, DType::F8_E4M3);
    const int64_t numel = ckpt.view(p + ".weight_scale").numel();
    TPS_CHECK(numel == 1 || numel == n, "tensor ", p, ".weight_scale has ", numel, " values: expected 1 (per tensor) or ", n,
              " (per channel)");
    return;
  }
  const int64_t g = q.group_size == -1 ? k : q.group_size;
  TPS_CHECK(k % g == 0 && k % 8 == 0 && n % 8 == 0 && g % 32 == 0, p, ": in_features ", k, " / out_features ", n,
            " do not fit 4-bit packing with group size ", g);
  if (q.method == Method::Gptq) {
    expect(ckpt, p + ".qweight", {k / 8, n}, DType::I32);
    if (ckpt.has(p + ".g_idx")) expect(ckpt, p + ".g_idx", {k}, DType::I32);
  } else {
    expect(ckpt, p + ".qweight", {k, n / 8}, DType::I32);
  }
  expect(ckpt, p + ".qzeros", {k / g, n / 8}, DType::I32);
  ckpt.expect_shape(p + ".scales", {k / g, n});
}

LinearWeight load_quantized_linear(const Checkpoint& ckpt, const CheckpointQuantization& q, const std::string& p,
                                   int64_t n, int64_t k) {
  CheckpointQuantization resolved = q;
  if (resolved.group_size == -1) resolved.group_size = k;
  switch (q.method) {
    case Method::Gptq: return load_gptq(ckpt, resolved, p, n, k);
    case Method::Awq: return load_awq(ckpt, resolved, p, n, k);
    case Method::Fp8: return load_fp8(ckpt, p, n);
    case Method::None: break;
  }
  TPS_THROW("load_quantized_linear: the checkpoint is not quantized");
}

}  // namespace tpserve
