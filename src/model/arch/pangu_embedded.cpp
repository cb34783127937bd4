// openPangu-Embedded (PanguEmbeddedForCausalLM / GGUF "pangu-embedded"): Llama's layer
// with biases on all four attention projections (q, k, v and o) and a large RoPE base
// (1.6e7 in the 7B model). NEOX RoPE.
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
    attn.o_bias = true;
    return make_dense_model(std::move(src), std::move(c), o, attn);
}

}  // namespace

extern const ArchDef k_arch_pangu_embedded = {
    "pangu-embedded", {"PanguEmbeddedForCausalLM"}, "openPangu-Embedded", configure, create};

}  // namespace pangolin
