// Qwen2 (Qwen2ForCausalLM / GGUF "qwen2"), also DeepSeek-R1-Distill-Qwen: Llama's layer
// with biases on the q, k and v projections; NEOX RoPE in both GGUF and HF layouts.
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
    attn.qkv_bias = true;
    return make_dense_model(std::move(src), std::move(c), o, attn);
}

}  // namespace

extern const ArchDef k_arch_qwen2 = {
    "qwen2", {"Qwen2ForCausalLM"}, "Qwen2 / R1-Distill-Qwen", configure, create};

}  // namespace pangolin
