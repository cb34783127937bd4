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
    c.rope.layout = RopeLayout::Interleaved;
    require(c.kv_lora_rank > 0 && c.qk_rope_head_dim > 0 && c.qk_nope_head_dim > 0, src.path(),
            ": MLA needs attention_kv_lora_dim, attention_qk_rope_dim and attention_qk_dim");
    c.rope.n_dims = c.qk_rope_head_dim;
    require(c.n_ff > 0 || c.n_dense_lead == 0, src.path(), ": missing intermediate_size for the dense layers");
    configure_moe(c, src, "sigmoid_topk");
}

std::unique_ptr<Model> create(std::unique_ptr<ModelSource> src, ModelConfig c, const LoadOptions& o) {
    const RouterConfig router = router_config(c);
    return std::make_unique<TransformerDecoder>(std::move(src), std::move(c), o,
        [router](const TensorLoader& l, int64_t i, const ModelConfig& cfg) {
            const std::string p = "blk." + std::to_string(i) + ".";
            TransformerLayer layer;
            layer.attn_norm = l.vector(p + "attn_norm.weight", cfg.n_embd);
            layer.post_attn_norm = l.vector(p + "post_attention_norm.weight", cfg.n_embd);
            layer.ffn_norm = l.vector(p + "ffn_norm.weight", cfg.n_embd);
            layer.post_ffn_norm = l.vector(p + "post_ffw_norm.weight", cfg.n_embd);
            layer.attn = load_mla(l, i, cfg);
            if (i < cfg.n_dense_lead) layer.ffn = load_ffn(l, p, cfg.n_embd, cfg.n_ff);
            else layer.ffn = load_moe(l, i, cfg, router);
            return layer;
        },
        hf_stem_overrides("pangu-ultra-moe"));
}

}  // namespace

extern const ArchDef k_arch_pangu_ultra_moe = {"pangu-ultra-moe", {"PanguUltraMoEForCausalLM"},
                                               "openPangu-Ultra-MoE", configure, create};

}  // namespace pangolin
