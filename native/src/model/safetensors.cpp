// Safetensors reader: mmaps each file read-only, validates the header (length, JSON, dtypes,
// offsets), resolves sharded checkpoints through model.safetensors.index.json, and hands out
// zero-copy views whose owner keeps the mapping alive. Tested by tests/safetensors_test.cpp.
#include "tpserve/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tpserve {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // 100 MB: real headers are a few MB at most

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); i++) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Parses one tensor entry of the header; offsets are relative to the end of the header.
TensorInfo parse_entry(const std::string& name, const json& e, const std::string& path, uint64_t data_size,
                       uint64_t* begin_out) {
  TPS_CHECK(e.is_object() && e.contains("dtype") && e.contains("shape") && e.contains("data_offsets"), "tensor ", name,
            " in file ", path, " needs 'dtype', 'shape' and 'data_offsets'");
  TPS_CHECK(e.at("dtype").is_string(), "tensor ", name, " in file ", path, " has a non-string dtype");
  const std::string dtype = e.at("dtype").get<std::string>();
  TensorInfo info;
  info.name = name;
  info.file = path;
  if (dtype == "F32") {
    info.dtype = DType::F32;
  } else if (dtype == "F16") {
    info.dtype = DType::F16;
  } else if (dtype == "BF16") {
    info.dtype = DType::BF16;
  } else if (dtype == "I8") {  // the storage types of quantized checkpoints (GPTQ, AWQ, FP8)
    info.dtype = DType::I8;
  } else if (dtype == "U8") {
    info.dtype = DType::U8;
  } else if (dtype == "I32") {
    info.dtype = DType::I32;
  } else if (dtype == "F8_E4M3") {
    info.dtype = DType::F8_E4M3;
  } else {
    TPS_THROW("tensor ", name, " in file ", path, " has unsupported dtype ", dtype, " (supported: F32, F16, BF16, I8, U8, I32, F8_E4M3)");
  }

  const json& shape = e.at("shape");
  TPS_CHECK(shape.is_array(), "tensor ", name, " in file ", path, " has a non-array shape");
  uint64_t numel = 1;
  for (const json& d : shape) {
    TPS_CHECK(d.is_number_unsigned(), "tensor ", name, " in file ", path, " has an invalid shape ", shape.dump());
    uint64_t dim = d.get<uint64_t>();
    TPS_CHECK(dim < (1ull << 40) && (dim == 0 || numel <= (1ull << 62) / dim), "tensor ", name, " in file ", path,
              " has an absurd shape ", shape.dump());
    numel *= dim;
    info.shape.push_back(static_cast<int64_t>(dim));
  }

  const json& off = e.at("data_offsets");
  TPS_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() && off[1].is_number_unsigned(), "tensor ",
            name, " in file ", path, " has invalid data_offsets ", off.dump());
  const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
  TPS_CHECK(begin <= end && end <= data_size, "tensor ", name, " in file ", path, " has data_offsets [", begin, ", ",
            end, "] outside the ", data_size, " data bytes of the file");
  const uint64_t expected = numel * dtype_size(info.dtype);
  TPS_CHECK(end - begin == expected, "tensor ", name, " in file ", path, " has ", end - begin, " bytes but shape ",
            shape_str(info.shape), " of ", dtype, " needs ", expected);
  info.nbytes = static_cast<size_t>(expected);
  *begin_out = begin;
  return info;
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  TPS_CHECK(fd >= 0, "cannot open safetensors file ", path, ": ", std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    TPS_THROW("cannot stat safetensors file ", path, ": ", std::strerror(err));
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ < 8) {
    ::close(fd);
    TPS_THROW("safetensors file ", path, " is truncated: ", size_, " bytes, less than the 8-byte header length");
  }
  void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);  // the mapping keeps the file alive
  TPS_CHECK(m != MAP_FAILED, "cannot mmap safetensors file ", path, ": ", std::strerror(err));
  mapping_ = m;

  try {
    const auto* bytes = static_cast<const unsigned char*>(mapping_);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) header_len = (header_len << 8) | bytes[i];  // little-endian
    TPS_CHECK(header_len < kMaxHeaderBytes, "safetensors file ", path, " declares a header of ", header_len,
              " bytes (limit ", kMaxHeaderBytes, "): corrupt or not a safetensors file");
    TPS_CHECK(header_len <= size_ - 8, "safetensors file ", path, " is truncated: header of ", header_len,
              " bytes runs past the end of the ", size_, "-byte file");
    json header;
    try {
      header = json::parse(bytes + 8, bytes + 8 + header_len);
    } catch (const json::parse_error& e) {
      TPS_THROW("safetensors file ", path, " has a malformed JSON header: ", e.what());
    }
    TPS_CHECK(header.is_object(), "safetensors file ", path, " has a header that is not a JSON object");

    const unsigned char* data = bytes + 8 + header_len;
    const uint64_t data_size = size_ - 8 - header_len;
    std::vector<std::pair<uint64_t, const TensorInfo*>> extents;
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        TPS_CHECK(it->is_object(), "safetensors file ", path, " has a __metadata__ that is not an object");
        for (auto m = it->begin(); m != it->end(); ++m) {
          TPS_CHECK(m->is_string(), "safetensors file ", path, " has non-string __metadata__ value for '", m.key(), "'");
          metadata_[m.key()] = m->get<std::string>();
        }
        continue;
      }
      uint64_t begin = 0;
      TensorInfo info = parse_entry(it.key(), *it, path, data_size, &begin);
      info.data = data + begin;
      auto& stored = tensors_[it.key()] = std::move(info);
      if (stored.nbytes > 0) extents.emplace_back(begin, &stored);
    }
    // No two tensors may share bytes.
    std::sort(extents.begin(), extents.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < extents.size(); i++) {
      const auto& prev = extents[i - 1];
      TPS_CHECK(prev.first + prev.second->nbytes <= extents[i].first, "tensors ", prev.second->name, " and ",
                extents[i].second->name, " in file ", path, " overlap");
    }
  } catch (...) {
    ::munmap(mapping_, size_);
    mapping_ = nullptr;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
}

Checkpoint::Checkpoint(const std::string& model_dir) : dir_(model_dir) {
  const std::string index_path = model_dir + "/model.safetensors.index.json";
  const std::string single_path = model_dir + "/model.safetensors";
  if (!file_exists(index_path)) {
    TPS_CHECK(file_exists(single_path), "no model.safetensors or model.safetensors.index.json in directory ",
              model_dir);
    auto file = std::make_shared<SafetensorsFile>(single_path);
    for (const auto& [name, info] : file->tensors()) index_[name] = {file, &info};
    files_.push_back(std::move(file));
    return;
  }

  json index;
  {
    std::ifstream in(index_path, std::ios::binary);
    TPS_CHECK(in.good(), "cannot open ", index_path);
    try {
      index = json::parse(in);
    } catch (const json::parse_error& e) {
      TPS_THROW("malformed JSON in ", index_path, ": ", e.what());
    }
  }
  TPS_CHECK(index.is_object() && index.contains("weight_map") && index.at("weight_map").is_object(), index_path,
            ": missing object 'weight_map'");
  std::map<std::string, std::shared_ptr<SafetensorsFile>> shards;
  for (auto it = index.at("weight_map").begin(); it != index.at("weight_map").end(); ++it) {
    TPS_CHECK(it->is_string(), index_path, ": weight_map entry for tensor ", it.key(), " is not a file name");
    const std::string shard = it->get<std::string>();
    // shard names are plain file names next to the index
    TPS_CHECK(!shard.empty() && shard.find('/') == std::string::npos && shard != "..", index_path,
              ": weight_map entry for tensor ", it.key(), " has invalid shard name '", shard, "'");
    auto& file = shards[shard];
    if (!file) {
      const std::string shard_path = model_dir + "/" + shard;
      TPS_CHECK(file_exists(shard_path), "shard ", shard_path, " listed in ", index_path, " (for tensor ", it.key(),
                ") does not exist");
      file = std::make_shared<SafetensorsFile>(shard_path);
      files_.push_back(file);
    }
    auto found = file->tensors().find(it.key());
    TPS_CHECK(found != file->tensors().end(), "tensor ", it.key(), " listed in ", index_path, " is missing from shard ",
              file->path());
    index_[it.key()] = {file, &found->second};
  }
}

bool Checkpoint::has(const std::string& name) const { return index_.count(name) != 0; }

const TensorInfo& Checkpoint::info(const std::string& name) const {
  auto it = index_.find(name);
  TPS_CHECK(it != index_.end(), "tensor ", name, " not found in checkpoint ", dir_);
  return *it->second.second;
}

Tensor Checkpoint::view(const std::string& name) const {
  const TensorInfo& ti = info(name);
  // The mapping is read-only: views must not be written to.
  return Tensor(const_cast<void*>(ti.data), ti.dtype, ti.shape, Device{}, index_.at(name).first);
}

Tensor Checkpoint::view_rows(const std::string& name, int64_t begin, int64_t end) const {
  const TensorInfo& ti = info(name);
  TPS_CHECK(!ti.shape.empty() && begin >= 0 && begin <= end && end <= ti.shape[0], "rows [", begin, ", ", end,
            ") out of bounds for tensor ", name, " of shape ", shape_str(ti.shape), " in file ", ti.file);
  return view(name).rows(begin, end);
}

Tensor Checkpoint::copy_columns(const std::string& name, int64_t begin, int64_t end) const {
  const TensorInfo& ti = info(name);
  TPS_CHECK(ti.shape.size() == 2, "copy_columns needs a 2-D tensor but ", name, " in file ", ti.file, " has shape ",
            shape_str(ti.shape));
  const int64_t rows = ti.shape[0], cols = ti.shape[1];
  TPS_CHECK(begin >= 0 && begin <= end && end <= cols, "columns [", begin, ", ", end, ") out of bounds for tensor ",
            name, " of shape ", shape_str(ti.shape), " in file ", ti.file);
  Tensor out = Tensor::empty_cpu(ti.dtype, {rows, end - begin});
  const size_t elem = dtype_size(ti.dtype);
  const size_t width = static_cast<size_t>(end - begin) * elem;
  const auto* src = static_cast<const char*>(ti.data) + static_cast<size_t>(begin) * elem;
  auto* dst = static_cast<char*>(out.data());
  for (int64_t r = 0; r < rows; r++)
    std::memcpy(dst + static_cast<size_t>(r) * width, src + static_cast<size_t>(r * cols) * elem, width);
  return out;
}

void Checkpoint::expect_shape(const std::string& name, const std::vector<int64_t>& shape) const {
  auto it = index_.find(name);
  TPS_CHECK(it != index_.end(), "missing tensor ", name, " (expected shape ", shape_str(shape), ") in checkpoint ",
            dir_);
  const TensorInfo& ti = *it->second.second;
  TPS_CHECK(ti.shape == shape, "tensor ", name, " in file ", ti.file, " has shape ", shape_str(ti.shape),
            " but the config expects ", shape_str(shape));
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  out.reserve(index_.size());
  for (const auto& kv : index_) out.push_back(kv.first);
  return out;
}

}  // namespace tpserve
