// safetensors reader: one file, or a sharded set listed by model.safetensors.index.json.
// Layout: u64 little-endian header length N | N bytes of JSON {name: {dtype, shape,
// data_offsets: [begin, end]}, "__metadata__": {...}} | data (offsets relative to here).
// The header is validated against the file: every tensor's byte range must lie inside the
// data section and match dtype × shape exactly.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor.h"

namespace pangolin {

class SafetensorsFile {
  public:
    explicit SafetensorsFile(const std::string& path);
    const std::string& path() const { return file_->path(); }
    const std::vector<TensorView>& tensors() const { return tensors_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

  private:
    std::shared_ptr<MappedFile> file_;
    std::vector<TensorView> tensors_;
    std::map<std::string, std::string> metadata_;
};

// All tensors of a Hugging Face checkpoint folder (model.safetensors, or the shards named by
// model.safetensors.index.json), looked up by name.
class SafetensorsSet {
  public:
    explicit SafetensorsSet(const std::string& folder);
    const TensorView* find(const std::string& name) const;
    std::vector<const TensorView*> all() const;

  private:
    std::vector<std::unique_ptr<SafetensorsFile>> files_;
    std::map<std::string, const TensorView*> index_;
};

}  // namespace pangolin
