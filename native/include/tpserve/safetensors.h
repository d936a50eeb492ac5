// Safetensors reader: mmaps single files or sharded checkpoints (model.safetensors.index.json),
// validates headers, and hands out zero-copy tensor views.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tpserve/tensor.h"

namespace tpserve {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::string file;        // the shard holding it
  const void* data = nullptr;  // into the mapping
  size_t nbytes = 0;
};

// One mmapped .safetensors file. Throws tpserve::Error naming the file (and tensor) when the
// file is truncated, the header is malformed, a dtype is unsupported or offsets overlap/overrun.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::string path_;
  void* mapping_ = nullptr;
  size_t size_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// All safetensors of a model directory: model.safetensors, or the shards listed by
// model.safetensors.index.json (every listed shard must exist and hold what the index says).
class Checkpoint {
 public:
  explicit Checkpoint(const std::string& model_dir);

  bool has(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // throws naming the tensor if missing
  // A zero-copy view of the whole tensor (the mapping stays alive as long as the view does).
  Tensor view(const std::string& name) const;
  // Rows [begin, end) of dimension 0: still zero-copy.
  Tensor view_rows(const std::string& name, int64_t begin, int64_t end) const;
  // Columns [begin, end) of the last dimension of a 2-D tensor, copied into an owned CPU tensor.
  Tensor copy_columns(const std::string& name, int64_t begin, int64_t end) const;
  // Checks the tensor exists with exactly this shape, else throws naming file, tensor and both shapes.
  void expect_shape(const std::string& name, const std::vector<int64_t>& shape) const;
  std::vector<std::string> names() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, std::pair<std::shared_ptr<SafetensorsFile>, const TensorInfo*>> index_;
};

}  // namespace tpserve
