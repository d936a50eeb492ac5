// Safetensors reader tests: round trips of f32/f16/bf16, sharded checkpoints, views and column
// copies, and every corruption the reader must reject with a message naming the file/tensor.
//   ctest --test-dir native/build -R Safetensors
#include <gtest/gtest.h>

#include "safetensors_writer.h"
#include "tpserve/safetensors.h"

namespace tpserve {
namespace {

using test_util::expect_error;

using test_util::SafetensorsWriter;
using test_util::TempDir;

std::vector<float> iota(size_t n, float scale = 1.f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; i++) v[i] = (static_cast<float>(i) - 3.f) * scale;
  return v;
}

TEST(Safetensors, RoundTripF32F16Bf16) {
  TempDir dir;
  SafetensorsWriter w;
  w.add_f32("a", {2, 3}, iota(6, 0.5f));
  w.add_f16("b", {4}, iota(4, 0.25f));
  w.add_bf16("c", {3, 1, 2}, iota(6, 2.f));
  w.add_f32("empty", {0, 5}, {});
  w.set_metadata("format", "pt");
  w.write(dir.file("model.safetensors"));

  SafetensorsFile f(dir.file("model.safetensors"));
  ASSERT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  const TensorInfo& a = f.tensors().at("a");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.nbytes, 24u);
  EXPECT_EQ(a.file, dir.file("model.safetensors"));
  for (size_t i = 0; i < 6; i++) EXPECT_EQ(load_as_float(a.data, DType::F32, i), iota(6, 0.5f)[i]);
  const TensorInfo& b = f.tensors().at("b");
  EXPECT_EQ(b.dtype, DType::F16);
  for (size_t i = 0; i < 4; i++) EXPECT_EQ(load_as_float(b.data, DType::F16, i), iota(4, 0.25f)[i]);
  const TensorInfo& c = f.tensors().at("c");
  EXPECT_EQ(c.dtype, DType::BF16);
  EXPECT_EQ(c.shape, (std::vector<int64_t>{3, 1, 2}));
  for (size_t i = 0; i < 6; i++) EXPECT_EQ(load_as_float(c.data, DType::BF16, i), iota(6, 2.f)[i]);
  EXPECT_EQ(f.tensors().at("empty").nbytes, 0u);

  Checkpoint ckpt(dir.path());
  EXPECT_TRUE(ckpt.has("c"));
  EXPECT_FALSE(ckpt.has("d"));
  EXPECT_EQ(ckpt.names().size(), 4u);
  Tensor t = ckpt.view("c");
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(t.dtype(), DType::BF16);
  EXPECT_EQ(t.data(), ckpt.info("c").data);  // zero-copy
}

TEST(Safetensors, ViewsOutliveCheckpoint) {
  TempDir dir;
  SafetensorsWriter w;
  w.add_f32("m", {4, 3}, iota(12));
  w.write(dir.file("model.safetensors"));
  Tensor rows, cols;
  {
    Checkpoint ckpt(dir.path());
    rows = ckpt.view_rows("m", 1, 3);
    cols = ckpt.copy_columns("m", 1, 3);
    expect_error([&] { ckpt.view_rows("m", 2, 5); }, {"m", "[4, 3]"});
    expect_error([&] { ckpt.copy_columns("m", 2, 4); }, {"m", "[4, 3]"});
  }
  // the mapping is kept alive by the view's owner
  ASSERT_EQ(rows.shape(), (std::vector<int64_t>{2, 3}));
  for (int i = 0; i < 6; i++) EXPECT_EQ(rows.ptr<float>()[i], iota(12)[3 + i]);
  ASSERT_EQ(cols.shape(), (std::vector<int64_t>{4, 2}));
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 2; c++) EXPECT_EQ(cols.ptr<float>()[r * 2 + c], iota(12)[r * 3 + 1 + c]);
}

TEST(Safetensors, ShardedIndex) {
  TempDir dir;
  std::vector<SafetensorsWriter> shards(2);
  shards[0].add_f32("x", {2, 2}, iota(4));
  shards[0].add_bf16("y", {3}, iota(3));
  shards[1].add_f16("z", {5}, iota(5, 0.5f));
  auto files = test_util::write_sharded(dir.path(), shards);

  Checkpoint ckpt(dir.path());
  EXPECT_EQ(ckpt.names(), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(ckpt.info("z").file, dir.file(files[1]));
  EXPECT_EQ(ckpt.info("x").file, dir.file(files[0]));
  Tensor z = ckpt.view("z");
  for (size_t i = 0; i < 5; i++) EXPECT_EQ(load_as_float(z.data(), DType::F16, i), iota(5, 0.5f)[i]);
  expect_error([&] { ckpt.info("w"); }, {"tensor w", dir.path()});
  expect_error([&] { ckpt.expect_shape("x", {2, 3}); }, {"tensor x", files[0], "[2, 2]", "[2, 3]"});
}

TEST(Safetensors, MissingShard) {
  TempDir dir;
  SafetensorsWriter w;
  w.add_f32("x", {2}, iota(2));
  w.write(dir.file("a.safetensors"));
  test_util::write_index(dir.path(), {{"x", "a.safetensors"}, {"y", "b.safetensors"}});
  expect_error([&] { Checkpoint c(dir.path()); }, {"b.safetensors", "model.safetensors.index.json", "does not exist"});
}

TEST(Safetensors, TensorMissingFromShard) {
  TempDir dir;
  SafetensorsWriter w;
  w.add_f32("x", {2}, iota(2));
  w.write(dir.file("a.safetensors"));
  test_util::write_index(dir.path(), {{"x", "a.safetensors"}, {"ghost", "a.safetensors"}});
  expect_error([&] { Checkpoint c(dir.path()); }, {"tensor ghost", "a.safetensors", "missing"});
}

TEST(Safetensors, NoCheckpointInDirectory) {
  TempDir dir;
  expect_error([&] { Checkpoint c(dir.path()); }, {dir.path(), "model.safetensors"});
}

TEST(Safetensors, TruncatedFile) {
  TempDir dir;
  test_util::write_bytes(dir.file("tiny.safetensors"), {1, 2, 3});
  expect_error([&] { SafetensorsFile f(dir.file("tiny.safetensors")); }, {"tiny.safetensors", "truncated"});

  // header fine, data cut short
  SafetensorsWriter w;
  w.add_f32("weights", {4, 4}, iota(16));
  auto bytes = w.bytes();
  bytes.resize(bytes.size() - 10);
  test_util::write_bytes(dir.file("cut.safetensors"), bytes);
  expect_error([&] { SafetensorsFile f(dir.file("cut.safetensors")); }, {"tensor weights", "cut.safetensors"});
}

TEST(Safetensors, HeaderLengthPastEof) {
  TempDir dir;
  auto bytes = test_util::raw_safetensors("{}");
  bytes[0] = 0x00;
  bytes[1] = 0x10;  // 4096-byte header in a 10-byte file
  test_util::write_bytes(dir.file("long.safetensors"), bytes);
  expect_error([&] { SafetensorsFile f(dir.file("long.safetensors")); }, {"long.safetensors", "header"});

  bytes[7] = 0x7f;  // absurd length: rejected before anything else
  test_util::write_bytes(dir.file("huge.safetensors"), bytes);
  expect_error([&] { SafetensorsFile f(dir.file("huge.safetensors")); }, {"huge.safetensors", "header"});
}

TEST(Safetensors, MalformedJson) {
  TempDir dir;
  test_util::write_bytes(dir.file("bad.safetensors"), test_util::raw_safetensors("{\"x\": {\"dtype\": "));
  expect_error([&] { SafetensorsFile f(dir.file("bad.safetensors")); }, {"bad.safetensors", "JSON"});
  test_util::write_bytes(dir.file("arr.safetensors"), test_util::raw_safetensors("[1, 2]"));
  expect_error([&] { SafetensorsFile f(dir.file("arr.safetensors")); }, {"arr.safetensors"});
  test_util::write_bytes(dir.file("meta.safetensors"), test_util::raw_safetensors("{\"__metadata__\": {\"a\": 1}}"));
  expect_error([&] { SafetensorsFile f(dir.file("meta.safetensors")); }, {"meta.safetensors", "__metadata__"});
}

TEST(Safetensors, UnsupportedDtype) {
  TempDir dir;
  for (const char* dtype : {"F64", "I64", "F8_E5M2", "Q4"}) {
    SafetensorsWriter w;
    w.add_raw("odd.weight", dtype, {2}, std::vector<uint8_t>(16));
    w.write(dir.file("d.safetensors"));
    expect_error([&] { SafetensorsFile f(dir.file("d.safetensors")); },
                 {"tensor odd.weight in file " + dir.file("d.safetensors") + " has unsupported dtype " + dtype});
  }
}

TEST(Safetensors, OffsetsMismatchShape) {
  TempDir dir;
  SafetensorsWriter w;
  w.add_raw("w", "F32", {3, 3}, std::vector<uint8_t>(32));  // needs 36 bytes
  w.write(dir.file("m.safetensors"));
  expect_error([&] { SafetensorsFile f(dir.file("m.safetensors")); }, {"tensor w", "m.safetensors", "[3, 3]", "36"});
}

TEST(Safetensors, OverlappingTensors) {
  TempDir dir;
  const std::string header =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  test_util::write_bytes(dir.file("o.safetensors"), test_util::raw_safetensors(header, std::vector<uint8_t>(12)));
  expect_error([&] { SafetensorsFile f(dir.file("o.safetensors")); }, {"o.safetensors", "overlap", "a", "b"});
}

TEST(Safetensors, OffsetsPastEnd) {
  TempDir dir;
  const std::string header = R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[8,16]}})";
  test_util::write_bytes(dir.file("p.safetensors"), test_util::raw_safetensors(header, std::vector<uint8_t>(12)));
  expect_error([&] { SafetensorsFile f(dir.file("p.safetensors")); }, {"tensor a", "p.safetensors", "data_offsets"});
  const std::string reversed = R"({"a":{"dtype":"F16","shape":[0],"data_offsets":[8,4]}})";
  test_util::write_bytes(dir.file("r.safetensors"), test_util::raw_safetensors(reversed, std::vector<uint8_t>(12)));
  expect_error([&] { SafetensorsFile f(dir.file("r.safetensors")); }, {"tensor a", "r.safetensors"});
}

}  // namespace
}  // namespace tpserve
