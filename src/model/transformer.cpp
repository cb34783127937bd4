#include "model/transformer.h"

#include "core/error.h"

namespace pangolin {

void configure_dense(ModelConfig& c, const ModelSource& src, RopeLayout layout) {
    c.rope.layout = layout;
    require(c.n_ff > 0, src.path(),
            ": missing the feed-forward width (intermediate_size / feed_forward_length)");
}

void configure_moe(ModelConfig& c, const ModelSource& src, const std::string& router) {
    c.router = router;
    require(c.n_expert > 0 && c.n_expert_used > 0, src.path(),
            ": a mixture-of-experts model needs its expert count and experts per token "
            "(n_routed_experts / num_experts and num_experts_per_tok)");
    require(c.n_ff_expert > 0, src.path(), ": missing the expert width (moe_intermediate_size / expert_feed_forward_length)");
    require(c.n_dense_lead >= 0 && c.n_dense_lead <= c.n_layer, src.path(), ": ", c.n_dense_lead,
            " leading dense layers exceed the ", c.n_layer, " layers");
    router_config(c);  // validates k, groups, ... with a clear message
}

TransformerLayer load_dense_layer(const TensorLoader& loader, int64_t i, const ModelConfig& c,
                                  const AttentionOptions& attention) {
    const std::string p = "blk." + std::to_string(i) + ".";
    TransformerLayer l;
    l.attn_norm = loader.vector(p + "attn_norm.weight", c.n_embd);
    l.ffn_norm = loader.vector(p + "ffn_norm.weight", c.n_embd);
    l.attn = load_attention(loader, i, c, attention);
    l.ffn = load_ffn(loader, p, c.n_embd, c.n_ff);
    return l;
}

TransformerDecoder::TransformerDecoder(std::unique_ptr<ModelSource> source, ModelConfig config,
                                       const LoadOptions& options, const LayerLoader& load_layer,
                                       std::map<std::string, std::string> hf_stems)
    : DecoderModel(std::move(source), std::move(config), options) {
    const auto& c = config_;
    TensorLoader loader(*source_, options.simd, std::move(hf_stems));
    load_embeddings(loader);
    rope_ = make_rope_table(c.rope);
    if (c.is_mla()) mla_scale_ = mla_softmax_scale(c);
    layers_.reserve(size_t(c.n_layer));
    for (int64_t i = 0; i < c.n_layer; ++i) layers_.push_back(load_layer(loader, i, c));
}

KvCacheShape TransformerDecoder::kv_shape(int64_t n_ctx) const {
    KvCacheShape s = DecoderModel::kv_shape(n_ctx);
    if (config_.is_mla()) {
        s.k_width = config_.kv_lora_rank + config_.qk_rope_head_dim;  // the latent, shared by all heads
        s.v_width = 0;
    }
    return s;
}

void TransformerDecoder::layer_forward(int64_t layer, ForwardContext& ctx) {
    const auto& c = config_;
    const TransformerLayer& l = layers_[size_t(layer)];
    const int64_t n = ctx.n_tokens, d = c.n_embd;
    float* h = ctx.scratch(n * d);
    float* o = ctx.scratch(n * d);

    rms_norm(ctx.x, d, l.attn_norm.data(), d, n, c.norm_eps, h, d, ctx.pool);
    if (const auto* gqa = std::get_if<AttentionWeights>(&l.attn)) {
        self_attention(*gqa, c, rope_, layer, ctx, h, o);
    } else {
        mla_attention(std::get<MlaWeights>(l.attn), c, rope_, mla_scale_, options_.mla_mode, layer, ctx, h, o);
    }
    if (!l.post_attn_norm.empty()) rms_norm(o, d, l.post_attn_norm.data(), d, n, c.norm_eps, o, d, ctx.pool);
    add_inplace(ctx.x, o, n * d, ctx.pool);

    rms_norm(ctx.x, d, l.ffn_norm.data(), d, n, c.norm_eps, h, d, ctx.pool);
    if (const auto* mlp = std::get_if<FfnWeights>(&l.ffn)) {
        swiglu_ffn(*mlp, ctx, h, n, o);
    } else {
        moe_ffn(std::get<MoeWeights>(l.ffn), ctx, h, n, o);
    }
    if (!l.post_ffn_norm.empty()) rms_norm(o, d, l.post_ffn_norm.data(), d, n, c.norm_eps, o, d, ctx.pool);
    add_inplace(ctx.x, o, n * d, ctx.pool);
}

}  // namespace pangolin
