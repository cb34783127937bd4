// A model on disk: a GGUF file or a Hugging Face folder (config.json + safetensors). Gives
// the tensors by their stored names and a generic ModelConfig; the architecture's own file
// (model/arch/*.cpp) maps names and completes the configuration.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "formats/model_config.h"

namespace pangolin {

class GgufFile;
class SafetensorsSet;

class ModelSource {
  public:
    // Opens `path`: a .gguf file or a folder holding config.json. Throws Error otherwise.
    static std::unique_ptr<ModelSource> open(const std::string& path);
    ~ModelSource();

    SourceKind kind() const { return kind_; }
    bool is_gguf() const { return kind() == SourceKind::Gguf; }
    const std::string& path() const { return path_; }
    // GGUF general.architecture or HF architectures[0].
    const std::string& architecture() const { return architecture_; }
    // The generic configuration read from the metadata / config.json (architecture files
    // complete it; see model/registry.h).
    ModelConfig read_config() const;

    // A tensor by its stored name; in HF folders "model.X" is also found as "X".
    const TensorView* find(const std::string& name) const;
    std::vector<const TensorView*> tensors() const;
    size_t tensor_bytes() const;

    const GgufFile* gguf() const { return gguf_.get(); }
    const nlohmann::json& hf_config() const;  // throws for GGUF sources

  private:
    ModelSource() = default;
    std::string path_;
    std::string architecture_;
    SourceKind kind_ = SourceKind::Gguf;
    std::unique_ptr<GgufFile> gguf_;
    std::unique_ptr<SafetensorsSet> safetensors_;
    std::unique_ptr<nlohmann::json> hf_config_;
};

// Generic configuration readers (formats/gguf_config.cpp, formats/hf_config.cpp).
ModelConfig config_from_gguf(const GgufFile& gguf);
ModelConfig config_from_hf(const nlohmann::json& config, const std::string& config_path);

// Reads a key of config.json through the alias table (e.g. openPangu's attention_q_lora_dim
// for q_lora_rank); nullptr when absent.
const nlohmann::json* hf_config_value(const nlohmann::json& config, const std::string& key);

}  // namespace pangolin
