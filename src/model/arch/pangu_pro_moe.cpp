// Pangu Pro MoE (PanguProMoEForCausalLM; Hugging Face folders, and GGUF "pangu-pro-moe" as
// Pangolin writes it): openPangu-Embedded's attention (q/k/v/o biases, NEOX RoPE) with a
// Mixture of Grouped Experts in every layer: softmax over all experts, the best expert of
// each of k contiguous groups (so every group — one device in the intended deployment —
// receives exactly one expert per token), weights × per-expert router_scale, no
// renormalization; plus one fused shared expert.
#include "core/error.h"
#include "model/registry.h"
#include "model/transformer.h"

namespace pangolin {

namespace {

void configure(ModelConfig& c, const ModelSource& src) {
    c.rope.layout = RopeLayout::Neox;
    if (c.n_expert_group <= 0) c.n_expert_group = c.n_expert_used;  // one expert per group
    c.norm_topk_prob = false;
    if (c.n_shared_expert == 0 && c.n_ff_shared > 0) c.n_shared_expert = 1;
    configure_moe(c, src, "moge");
}

std::unique_ptr<Model> create(std::unique_ptr<ModelSource> src, ModelConfig c,
                              const LoadOptions& o) {
    const RouterConfig router = router_config(c);
    MoeNames names;
    names.hf_shared = "mlp.shared_expert.";
    return std::make_unique<TransformerDecoder>(
        std::move(src), std::move(c), o,
        [router, names](const TensorLoader& l, int64_t i, const ModelConfig& cfg) {
            AttentionOptions attn;
            attn.qkv_bias = true;
            attn.o_bias = true;
            return load_moe_layer(l, i, cfg, load_attention(l, i, cfg, attn), router, names);
        });
}

}  // namespace

extern const ArchDef k_arch_pangu_pro_moe = {
    "pangu-pro-moe", {"PanguProMoEForCausalLM"}, "Pangu Pro MoE", configure, create};

}  // namespace pangolin
