// The architectures Pangolin runs, found by GGUF general.architecture or by Hugging Face
// architectures[0]. Each architecture file under model/arch/ defines one ArchDef.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/model.h"

namespace pangolin {

struct ArchDef {
    const char* gguf_name;              // e.g. "qwen2"
    std::vector<std::string> hf_names;  // e.g. {"Qwen2ForCausalLM"}
    const char* description;
    // Completes and validates the generic configuration (defaults, rope layout, ...).
    void (*configure)(ModelConfig& config, const ModelSource& source);
    std::unique_ptr<Model> (*create)(std::unique_ptr<ModelSource> source, ModelConfig config,
                                     const LoadOptions& options);
};

const std::vector<const ArchDef*>& architectures();
// nullptr when unknown.
const ArchDef* find_arch(const std::string& name);
// "llama (LlamaForCausalLM), qwen2 (Qwen2ForCausalLM), ..."
std::string supported_architectures();

// Opens a model file or folder, resolves its architecture and loads its weights.
std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& options = {});
// Only the source and the completed configuration (for inspect), no weights prepared.
std::pair<std::unique_ptr<ModelSource>, ModelConfig> open_model_config(const std::string& path);

// Checks that hold for every architecture (positive sizes, head counts that divide, ...).
void validate_common(const ModelConfig& config, const ModelSource& source);

}  // namespace pangolin
