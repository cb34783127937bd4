// Qwen3-MoE (Qwen3MoeForCausalLM / GGUF "qwen3moe"): Qwen3's attention (per-head q/k RMSNorm,
// no biases, NEOX RoPE) with a mixture-of-experts FFN in every layer: softmax over all
// experts, top-k, renormalized when norm_topk_prob (llama.cpp always renormalizes qwen3moe).
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/registry.h"
#include "model/transformer.h"

namespace pangolin {

namespace {

void configure(ModelConfig& c, const ModelSource& src) {
    c.rope.layout = RopeLayout::Neox;
    if (src.is_gguf()) c.norm_topk_prob = true;
    if (!src.is_gguf()) {
        const auto& j = src.hf_config();
        const bool dense_layers =
            (j.contains("mlp_only_layers") && j["mlp_only_layers"].is_array() &&
             !j["mlp_only_layers"].empty()) ||
            (j.contains("decoder_sparse_step") && j["decoder_sparse_step"] != 1);
        require(!dense_layers, src.path(),
                ": Qwen3-MoE with dense layers (mlp_only_layers / "
                "decoder_sparse_step) is not supported");
    }
    configure_moe(c, src, "softmax_topk");
}

std::unique_ptr<Model> create(std::unique_ptr<ModelSource> src, ModelConfig c,
                              const LoadOptions& o) {
    const RouterConfig router = router_config(c);
    return std::make_unique<TransformerDecoder>(
        std::move(src), std::move(c), o,
        [router](const TensorLoader& l, int64_t i, const ModelConfig& cfg) {
            AttentionOptions attn;
            attn.qk_norm = true;
            return load_moe_layer(l, i, cfg, load_attention(l, i, cfg, attn), router);
        });
}

}  // namespace

extern const ArchDef k_arch_qwen3moe = {
    "qwen3moe", {"Qwen3MoeForCausalLM"}, "Qwen3-MoE", configure, create};

}  // namespace pangolin
