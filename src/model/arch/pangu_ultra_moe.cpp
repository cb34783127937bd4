// openPangu-Ultra-MoE (PanguUltraMoEForCausalLM; Hugging Face folders, and GGUF
// "pangu-ultra-moe" as docs/gguf-pangu-ultra-moe.md defines it): DeepSeek-V3's MLA
// without YaRN (plain RoPE on interleaved pairs), "sandwich" norms around both sublayers
//   x += post_attention_layernorm(attention(input_layernorm(x)))
//   x += post_mlp_layernorm(mlp(pre_mlp_layernorm(x)))
// leading dense layers, and a sigmoid router with plain top-k over all experts, renormalized
// and × routed_scaling_factor. Config keys use the original names (attention_q_lora_dim,
// num_routed_experts, num_dense_layers, ...) through the alias table in formats/hf_config.cpp.
#include "core/error.h"
#include "model/registry.h"
#include "model/transformer.h"

namespace pangolin {

namespace {

void configure(ModelConfig& c, const ModelSource& src) {
    configure_mla(c, src);  // the config spells these attention_kv_lora_dim, attention_qk_rope_dim,
                            // attention_qk_dim
    configure_moe(c, src, "sigmoid_topk");
}

std::unique_ptr<Model> create(std::unique_ptr<ModelSource> src, ModelConfig c,
                              const LoadOptions& o) {
    const RouterConfig router = router_config(c);
    return std::make_unique<TransformerDecoder>(
        std::move(src), std::move(c), o,
        [router](const TensorLoader& l, int64_t i, const ModelConfig& cfg) {
            return load_moe_layer(l, i, cfg, load_mla(l, i, cfg), router, MoeNames{},
                                  /*sandwich=*/true);
        },
        hf_stem_overrides("pangu-ultra-moe"));
}

}  // namespace

extern const ArchDef k_arch_pangu_ultra_moe = {
    "pangu-ultra-moe", {"PanguUltraMoEForCausalLM"}, "openPangu-Ultra-MoE", configure, create};

}  // namespace pangolin
