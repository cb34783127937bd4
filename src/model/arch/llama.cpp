// Llama (LlamaForCausalLM / GGUF "llama"): pre-norm decoder, RMSNorm, GQA self-attention
// with RoPE, SwiGLU MLP. Also the DeepSeek-R1-Distill-Llama family and the kjv-demo model.
//
// RoPE layout depends on the source: Hugging Face stores q/k rows in rotate-half (NEOX)
// order, while llama.cpp's converter permutes them so that GGUF files rotate interleaved
// pairs. Both give the same attention scores; no weight is permuted at load.
#include "model/registry.h"
#include "model/transformer.h"

namespace pangolin {

namespace {

void configure(ModelConfig& c, const ModelSource& src) {
    configure_dense(c, src, src.is_gguf() ? RopeLayout::Interleaved : RopeLayout::Neox);
}

std::unique_ptr<Model> create(std::unique_ptr<ModelSource> src, ModelConfig c,
                              const LoadOptions& o) {
    return make_dense_model(std::move(src), std::move(c), o, AttentionOptions{});
}

}  // namespace

extern const ArchDef k_arch_llama = {"llama", {"LlamaForCausalLM"}, "Llama", configure, create};

}  // namespace pangolin
