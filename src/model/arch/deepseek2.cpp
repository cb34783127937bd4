// DeepSeek-V3/R1 and V2 (DeepseekV3ForCausalLM, DeepseekV2ForCausalLM / GGUF "deepseek2"):
// multi-head latent attention (q and kv low-rank projections, decoupled RoPE on the rope
// part with interleaved pairs, YaRN with DeepSeek's softmax-scale correction), the first
// `first_k_dense_replace` layers dense, the rest mixture-of-experts with shared experts.
// Router: V3's noaux_tc (sigmoid + correction bias, group-limited) or V2's softmax top-k.
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/gguf.h"
#include "model/registry.h"
#include "model/transformer.h"

namespace pangolin {

namespace {

double yarn_get_mscale(double factor, double mscale) {
    return factor <= 1.0 || mscale == 0.0 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0;
}

void configure(ModelConfig& c, const ModelSource& src) {
    configure_mla(c, src);
    std::string router;
    if (src.is_gguf()) {
        const int64_t gating = src.gguf()->get_int("deepseek2.expert_gating_func").value_or(1);
        router = gating == 2 ? "sigmoid_group_topk" : "softmax_topk";
    } else {
        const auto& j = src.hf_config();
        const std::string scoring = j.value("scoring_func", "softmax");
        const std::string method = j.value("topk_method", "greedy");
        if (scoring == "sigmoid" && method == "noaux_tc")
            router = "sigmoid_group_topk";
        else if (scoring == "softmax" && method == "greedy")
            router = "softmax_topk";
        else
            fail(src.path(), ": DeepSeek routing scoring_func='", scoring, "' topk_method='",
                 method, "' is not supported (supported: sigmoid+noaux_tc, softmax+greedy)");
        if (!j.contains("norm_topk_prob")) c.norm_topk_prob = router == "sigmoid_group_topk";
    }
    if (router == "sigmoid_group_topk" && c.n_expert_group <= 0)
        c.n_expert_group = 1, c.n_group_used = 1;
    // YaRN: llama.cpp's convention leaves cos/sin unscaled (mscale / mscale_all_dim ratio 1)
    // and applies mscale_all_dim's correction to the softmax scale (see mla_softmax_scale).
    if (c.rope.scaling == RopeScaling::Yarn) {
        const double base = 1.0 + 0.1 * std::log(c.rope.factor);  // what make_rope_table applies
        const double ratio = src.is_gguf()
                                 ? 1.0
                                 : yarn_get_mscale(c.rope.factor, c.rope.yarn_mscale) /
                                       yarn_get_mscale(c.rope.factor, c.rope.yarn_mscale_all_dim);
        c.rope.yarn_attn_factor = ratio / base;
    }
    configure_moe(c, src, router);
}

std::unique_ptr<Model> create(std::unique_ptr<ModelSource> src, ModelConfig c,
                              const LoadOptions& o) {
    const RouterConfig router = router_config(c);
    return std::make_unique<TransformerDecoder>(
        std::move(src), std::move(c), o,
        [router](const TensorLoader& l, int64_t i, const ModelConfig& cfg) {
            return load_moe_layer(l, i, cfg, load_mla(l, i, cfg), router);
        });
}

}  // namespace

extern const ArchDef k_arch_deepseek2 = {"deepseek2",
                                         {"DeepseekV3ForCausalLM", "DeepseekV2ForCausalLM"},
                                         "DeepSeek-V3/R1, V2",
                                         configure,
                                         create};

}  // namespace pangolin
