// Qwen3 (Qwen3ForCausalLM / GGUF "qwen3"): Llama's layer with a per-head RMSNorm on q and k
// (before RoPE), no projection biases, an explicit head_dim that need not equal
// hidden/heads, and (in small models) tied embeddings. NEOX RoPE.
#include "model/registry.h"
#include "model/transformer.h"

namespace pangolin {

namespace {

void configure(ModelConfig& c, const ModelSource& src) {
    configure_dense(c, src, RopeLayout::Neox);
}

std::unique_ptr<Model> create(std::unique_ptr<ModelSource> src, ModelConfig c,
                              const LoadOptions& o) {
    AttentionOptions attn;
    attn.qk_norm = true;
    return make_dense_model(std::move(src), std::move(c), o, attn);
}

}  // namespace

extern const ArchDef k_arch_qwen3 = {"qwen3", {"Qwen3ForCausalLM"}, "Qwen3", configure, create};

}  // namespace pangolin
