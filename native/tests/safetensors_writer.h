// Test helpers: a minimal safetensors writer (header + data, optionally sharded with an index)
// and a self-deleting temporary directory. Lets tests build valid, sharded and corrupt checkpoints.
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tpserve/error.h"

#include <nlohmann/json.hpp>

#include "tpserve/dtype.h"

namespace tpserve::test_util {

// mkdtemp directory removed (recursively) when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tpserve-test-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char* p = ::mkdtemp(buf.data());
    path_ = p ? p : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A file made of an arbitrary header text and data: the 8-byte little-endian length is header's.
inline std::vector<uint8_t> raw_safetensors(const std::string& header, const std::vector<uint8_t>& data = {}) {
  std::vector<uint8_t> out(8 + header.size() + data.size());
  const uint64_t n = header.size();
  for (int i = 0; i < 8; i++) out[i] = static_cast<uint8_t>(n >> (8 * i));
  if (!header.empty()) std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

// Collects tensors, then writes them as one safetensors file (header padded to 8 bytes as the
// reference writer does). add_raw allows any dtype string and any byte count, for corrupt files.
class SafetensorsWriter {
 public:
  void add_raw(const std::string& name, const std::string& dtype, std::vector<int64_t> shape,
               std::vector<uint8_t> bytes) {
    entries_.push_back({name, dtype, std::move(shape), std::move(bytes)});
  }
  void add_f32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values) {
    std::vector<uint8_t> bytes(values.size() * 4);
    if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    add_raw(name, "F32", std::move(shape), std::move(bytes));
  }
  void add_f16(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values) {
    add_half(name, "F16", std::move(shape), values, float_to_f16);
  }
  void add_bf16(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values) {
    add_half(name, "BF16", std::move(shape), values, float_to_bf16);
  }
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape, const std::vector<float>& values) {
    switch (dtype) {
      case DType::F32: add_f32(name, std::move(shape), values); break;
      case DType::F16: add_f16(name, std::move(shape), values); break;
      case DType::BF16: add_bf16(name, std::move(shape), values); break;
    }
  }
  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
  }

  std::string header() const {
    nlohmann::ordered_json h = nlohmann::ordered_json::object();
    if (!metadata_.empty()) h["__metadata__"] = metadata_;
    uint64_t offset = 0;
    for (const auto& e : entries_) {
      h[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes.size()}}};
      offset += e.bytes.size();
    }
    std::string text = h.dump();
    while (text.size() % 8 != 0) text.push_back(' ');
    return text;
  }
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> data;
    for (const auto& e : entries_) data.insert(data.end(), e.bytes.begin(), e.bytes.end());
    return raw_safetensors(header(), data);
  }
  void write(const std::string& path) const { write_bytes(path, bytes()); }

 private:
  struct Entry {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  template <typename Convert>
  void add_half(const std::string& name, const char* dtype, std::vector<int64_t> shape,
                const std::vector<float>& values, Convert convert) {
    std::vector<uint8_t> bytes(values.size() * 2);
    for (size_t i = 0; i < values.size(); i++) {
      uint16_t h = convert(values[i]);
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
    add_raw(name, dtype, std::move(shape), std::move(bytes));
  }
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

// Writes model.safetensors.index.json mapping each tensor to its shard file name.
inline void write_index(const std::string& dir, const std::map<std::string, std::string>& weight_map) {
  nlohmann::json j = {{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}};
  write_text(dir + "/model.safetensors.index.json", j.dump(2));
}

// Writes each writer as a shard "model-0000k-of-0000n.safetensors" plus the index; returns the shard names.
inline std::vector<std::string> write_sharded(const std::string& dir, const std::vector<SafetensorsWriter>& shards) {
  std::map<std::string, std::string> weight_map;
  std::vector<std::string> files;
  for (size_t k = 0; k < shards.size(); k++) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", k + 1, shards.size());
    shards[k].write(dir + "/" + name);
    for (const auto& t : shards[k].names()) weight_map[t] = name;
    files.push_back(name);
  }
  write_index(dir, weight_map);
  return files;
}

// Runs f, expects a tpserve::Error whose message contains every needle.
template <typename F>
void expect_error(F f, const std::vector<std::string>& needles) {
  try {
    f();
    ADD_FAILURE() << "expected an error mentioning " << needles.at(0);
  } catch (const Error& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

}  // namespace tpserve::test_util
