#include "model/registry.h"

#include "core/error.h"
#include "core/log.h"

namespace pangolin {

// Defined in model/arch/*.cpp.
extern const ArchDef k_arch_llama;
extern const ArchDef k_arch_qwen2;
extern const ArchDef k_arch_qwen3;
extern const ArchDef k_arch_pangu_embedded;
extern const ArchDef k_arch_qwen3moe;
extern const ArchDef k_arch_deepseek2;
extern const ArchDef k_arch_pangu_pro_moe;
extern const ArchDef k_arch_pangu_ultra_moe;

const std::vector<const ArchDef*>& architectures() {
    static const std::vector<const ArchDef*> all = {
        &k_arch_llama,    &k_arch_qwen2,     &k_arch_qwen3,         &k_arch_pangu_embedded,
        &k_arch_qwen3moe, &k_arch_deepseek2, &k_arch_pangu_pro_moe, &k_arch_pangu_ultra_moe,
    };
    return all;
}

const ArchDef* find_arch(const std::string& name) {
    for (const auto* a : architectures()) {
        if (name == a->gguf_name) return a;
        for (const auto& hf : a->hf_names)
            if (name == hf) return a;
    }
    return nullptr;
}

std::string supported_architectures() {
    std::string s;
    for (const auto* a : architectures()) {
        if (!s.empty()) s += ", ";
        s += a->gguf_name;
        if (!a->hf_names.empty()) {
            s += " (";
            for (size_t i = 0; i < a->hf_names.size(); ++i) s += (i ? "/" : "") + a->hf_names[i];
            s += ")";
        }
    }
    return s;
}

void validate_common(const ModelConfig& c, const ModelSource& src) {
    const auto& p = src.path();
    require(c.n_vocab > 0 && c.n_embd > 0 && c.n_layer > 0 && c.n_head > 0 && c.n_head_kv > 0, p,
            ": vocabulary, hidden size, layer and head counts must all be positive");
    require(c.n_head % c.n_head_kv == 0, p, ": ", c.n_head,
            " attention heads cannot be grouped over ", c.n_head_kv,
            " key/value heads (must divide)");
    require(c.head_dim > 0 && c.head_dim_v > 0, p, ": head size must be positive");
    require(c.rope.n_dims > 0 && c.rope.n_dims <= c.head_dim && c.rope.n_dims % 2 == 0, p,
            ": rotary dimension count ", c.rope.n_dims, " must be even and at most the head size ",
            c.head_dim);
    require(c.norm_eps > 0 && c.norm_eps < 1, p, ": RMSNorm epsilon ", c.norm_eps,
            " is out of range");
}

std::pair<std::unique_ptr<ModelSource>, ModelConfig> open_model_config(const std::string& path) {
    auto source = ModelSource::open(path);
    const std::string& name = source->architecture();
    const ArchDef* arch = find_arch(name);
    require(arch != nullptr, path, ": unknown architecture '", name,
            "'; Pangolin supports: ", supported_architectures());
    ModelConfig config = source->read_config();
    config.arch = arch->gguf_name;
    if (!source->is_gguf()) config.hf_arch = name;
    arch->configure(config, *source);
    validate_common(config, *source);
    return {std::move(source), std::move(config)};
}

std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& options) {
    auto [source, config] = open_model_config(path);
    const ArchDef* arch = find_arch(config.arch);
    log_debug("loading ", config.arch, " from ", path);
    return arch->create(std::move(source), std::move(config), options);
}

}  // namespace pangolin
