#include "model/transformer.h"

#include "core/error.h"
#include "core/memory.h"

#include <cstdlib>

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
    require(c.n_ff_expert > 0, src.path(),
            ": missing the expert width (moe_intermediate_size / expert_feed_forward_length)");
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

void configure_mla(ModelConfig& c, const ModelSource& src) {
    c.rope.layout = RopeLayout::Interleaved;
    require(c.kv_lora_rank > 0 && c.qk_rope_head_dim > 0 && c.qk_nope_head_dim > 0, src.path(),
            ": MLA needs kv_lora_rank, qk_rope_head_dim and qk_nope_head_dim");
    c.rope.n_dims = c.qk_rope_head_dim;
    require(c.n_ff > 0 || c.n_dense_lead == 0, src.path(),
            ": missing intermediate_size for the dense layers");
}

std::unique_ptr<Model> make_dense_model(std::unique_ptr<ModelSource> source, ModelConfig config,
                                        const LoadOptions& options,
                                        const AttentionOptions& attention) {
    return std::make_unique<TransformerDecoder>(
        std::move(source), std::move(config), options,
        [attention](const TensorLoader& l, int64_t i, const ModelConfig& c) {
            return load_dense_layer(l, i, c, attention);
        });
}

TransformerLayer load_moe_layer(const TensorLoader& loader, int64_t i, const ModelConfig& c,
                                std::variant<AttentionWeights, MlaWeights> attention,
                                const RouterConfig& router, const MoeNames& names, bool sandwich) {
    const std::string p = "blk." + std::to_string(i) + ".";
    TransformerLayer l;
    l.attn_norm = loader.vector(p + "attn_norm.weight", c.n_embd);
    l.ffn_norm = loader.vector(p + "ffn_norm.weight", c.n_embd);
    if (sandwich) {
        l.post_attn_norm = loader.vector(p + "post_attention_norm.weight", c.n_embd);
        l.post_ffn_norm = loader.vector(p + "post_ffw_norm.weight", c.n_embd);
    }
    l.attn = std::move(attention);
    if (i < c.n_dense_lead)
        l.ffn = load_ffn(loader, p, c.n_embd, c.n_ff);
    else
        l.ffn = load_moe(loader, i, c, router, names);
    return l;
}

TransformerDecoder::TransformerDecoder(std::unique_ptr<ModelSource> source, ModelConfig config,
                                       const LoadOptions& options, const LayerLoader& load_layer,
                                       std::map<std::string, std::string> hf_stems)
    : DecoderModel(std::move(source), std::move(config), options) {
    const auto& c = config_;
    Sharding sharding;
    sharding.mode = options.parallel;
    sharding.rank = comm_->rank();
    sharding.size = comm_->size();
    if (sharding.tensor())
        require(!c.is_mla() && !c.is_moe(), source_->path(),
                ": tensor parallelism (--tp) supports the dense GQA "
                "architectures (llama, qwen2, qwen3, pangu-embedded); use --ep for "
                "mixture-of-experts models");
    if (sharding.expert())
        require(c.is_moe(), source_->path(),
                ": expert parallelism (--ep) needs a mixture-of-experts model");
    TensorLoader loader(*source_, options.simd, std::move(hf_stems), sharding);
    load_embeddings(loader);
    rope_ = make_rope_table(c.rope);
    if (c.is_mla()) mla_scale_ = mla_softmax_scale(c);
    layers_.reserve(size_t(c.n_layer));
    for (int64_t i = 0; i < c.n_layer; ++i) layers_.push_back(load_layer(loader, i, c));
    expert_stats_.tokens_per_expert.assign(size_t(c.n_layer),
                                           std::vector<int64_t>(size_t(c.n_expert), 0));
    expert_stats_.rows_received.assign(size_t(c.n_layer), 0);
    for (const auto& l : layers_)
        if (const auto* moe = std::get_if<MoeWeights>(&l.ffn))
            for (size_t e = 0; e < moe->gate.size(); ++e) {
                size_t bytes = 0;
                for (const auto* v : {&moe->gate, &moe->up, &moe->down})
                    if ((*v)[e].valid()) bytes += (*v)[e].w.nbytes;
                local_expert_bytes_ += bytes;
            }
    for (const auto* t : source_->tensors())
        if (t->name.find("_exps.") != std::string::npos ||
            t->name.find(".experts.") != std::string::npos) {
            total_expert_bytes_ += t->nbytes;
            expert_ranges_.emplace_back(t->data, t->nbytes);
        }
    if (sharding.expert()) {
        // Other ranks' experts are never read here: keep the kernel from reading them in
        // around the pages this rank uses.
        std::vector<std::pair<const void*, size_t>> remote;
        for (const auto& l : layers_)
            if (const auto* moe = std::get_if<MoeWeights>(&l.ffn)) {
                if (source_->is_gguf()) {
                    // stacked tensors: the experts before and after this rank's range
                    for (const auto* v : {&moe->gate, &moe->up, &moe->down}) {
                        const Weight& first = (*v)[size_t(moe->expert_begin)];
                        const size_t one = first.w.nbytes;
                        const uint8_t* base = first.w.data - size_t(moe->expert_begin) * one;
                        remote.emplace_back(base, size_t(moe->expert_begin) * one);
                        remote.emplace_back(
                            first.w.data + size_t(moe->expert_end - moe->expert_begin) * one,
                            size_t(c.n_expert - moe->expert_end) * one);
                    }
                }
            }
        if (!source_->is_gguf())
            for (const auto* t : source_->tensors()) {
                const auto at = t->name.find(".experts.");
                if (at == std::string::npos) continue;
                const int64_t e = std::atoll(t->name.c_str() + at + 9);
                const int64_t per = c.n_expert / sharding.size;
                if (e / per != sharding.rank) remote.emplace_back(t->data, t->nbytes);
            }
        advise_random_access(remote);
    }
}

KvCacheShape TransformerDecoder::kv_shape(int64_t n_ctx) const {
    KvCacheShape s = DecoderModel::kv_shape(n_ctx);
    if (options_.parallel == ParallelMode::Tensor && comm_->distributed()) {
        s.k_width /= comm_->size();  // this rank's KV heads
        s.v_width /= comm_->size();
    }
    if (config_.is_mla()) {
        s.k_width =
            config_.kv_lora_rank + config_.qk_rope_head_dim;  // the latent, shared by all heads
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
        mla_attention(std::get<MlaWeights>(l.attn), c, rope_, mla_scale_, options_.mla_mode, layer,
                      ctx, h, o);
    }
    if (!l.post_attn_norm.empty())
        rms_norm(o, d, l.post_attn_norm.data(), d, n, c.norm_eps, o, d, ctx.pool);
    add_inplace(ctx.x, o, n * d, ctx.pool);

    rms_norm(ctx.x, d, l.ffn_norm.data(), d, n, c.norm_eps, h, d, ctx.pool);
    if (const auto* mlp = std::get_if<FfnWeights>(&l.ffn)) {
        swiglu_ffn(*mlp, ctx, h, n, o);
    } else {
        moe_ffn(std::get<MoeWeights>(l.ffn), ctx, h, n, o, layer);
    }
    if (!l.post_ffn_norm.empty())
        rms_norm(o, d, l.post_ffn_norm.data(), d, n, c.norm_eps, o, d, ctx.pool);
    add_inplace(ctx.x, o, n * d, ctx.pool);
}

}  // namespace pangolin
