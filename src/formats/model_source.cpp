#include "formats/model_source.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"

namespace pangolin {

namespace fs = std::filesystem;

ModelSource::~ModelSource() = default;

std::unique_ptr<ModelSource> ModelSource::open(const std::string& path) {
    std::unique_ptr<ModelSource> src(new ModelSource());
    src->path_ = path;
    require(fs::exists(path), path, ": no such file or folder");
    if (fs::is_directory(path)) {
        const auto config_path = (fs::path(path) / "config.json").string();
        require(fs::exists(config_path), path,
                ": not a model folder (no config.json); give a .gguf file or a Hugging Face "
                "checkpoint folder");
        std::ifstream in(config_path);
        auto cfg = std::make_unique<nlohmann::json>();
        try {
            *cfg = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            fail(config_path, ": not valid JSON: ", e.what());
        }
        require(cfg->is_object(), config_path, ": must hold a JSON object");
        const auto* archs = hf_config_value(*cfg, "architectures");
        require(archs && archs->is_array() && !archs->empty() && (*archs)[0].is_string(),
                config_path,
                ": missing required key 'architectures' (a list naming the model class)");
        src->kind_ = SourceKind::HfFolder;
        src->architecture_ = (*archs)[0].get<std::string>();
        src->hf_config_ = std::move(cfg);
        src->safetensors_ = std::make_unique<SafetensorsSet>(path);
    } else {
        src->gguf_ = std::make_unique<GgufFile>(path);
        const auto arch = src->gguf_->get_string("general.architecture");
        require(arch.has_value(), path, ": missing general.architecture");
        src->kind_ = SourceKind::Gguf;
        src->architecture_ = *arch;
    }
    return src;
}

ModelConfig ModelSource::read_config() const {
    if (gguf_) return config_from_gguf(*gguf_);
    return config_from_hf(*hf_config_, (std::filesystem::path(path_) / "config.json").string());
}

const TensorView* ModelSource::find(const std::string& name) const {
    if (gguf_) return gguf_->find_tensor(name);
    if (const TensorView* t = safetensors_->find(name)) return t;
    // Checkpoints saved from the base model class carry no "model." prefix
    // (Qwen3-Embedding: "layers.0.self_attn.q_proj.weight", "embed_tokens.weight").
    if (name.rfind("model.", 0) == 0) return safetensors_->find(name.substr(6));
    return nullptr;
}

std::vector<const TensorView*> ModelSource::tensors() const {
    if (safetensors_) return safetensors_->all();
    std::vector<const TensorView*> out;
    for (const auto& t : gguf_->tensors()) out.push_back(&t);
    return out;
}

size_t ModelSource::tensor_bytes() const {
    size_t n = 0;
    for (const auto* t : tensors()) n += t->nbytes;
    return n;
}

const nlohmann::json& ModelSource::hf_config() const {
    require(hf_config_ != nullptr, path_, ": not a Hugging Face folder");
    return *hf_config_;
}

}  // namespace pangolin
