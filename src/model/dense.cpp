#include "model/dense.h"

#include "core/error.h"

namespace pangolin {

void configure_dense(ModelConfig& c, const ModelSource& src, RopeLayout layout) {
    c.rope.layout = layout;
    require(c.n_ff > 0, src.path(),
            ": missing the feed-forward width (intermediate_size / feed_forward_length)");
}

DenseDecoder::DenseDecoder(std::unique_ptr<ModelSource> source, ModelConfig config,
                           const LoadOptions& options, const AttentionOptions& attention_options)
    : DecoderModel(std::move(source), std::move(config), options) {
    const auto& c = config_;
    TensorLoader loader(*source_, options.simd);
    load_embeddings(loader);
    rope_ = make_rope_table(c.rope);
    layers_.resize(size_t(c.n_layer));
    for (int64_t i = 0; i < c.n_layer; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        Layer& l = layers_[size_t(i)];
        l.attn_norm = loader.vector(p + "attn_norm.weight", c.n_embd);
        l.ffn_norm = loader.vector(p + "ffn_norm.weight", c.n_embd);
        l.attn = load_attention(loader, i, c, attention_options);
        l.ffn = load_ffn(loader, p, c.n_embd, c.n_ff);
    }
}

void DenseDecoder::layer_forward(int64_t layer, ForwardContext& ctx) {
    const auto& c = config_;
    const Layer& l = layers_[size_t(layer)];
    const int64_t n = ctx.n_tokens, d = c.n_embd;
    float* h = ctx.scratch(n * d);
    float* o = ctx.scratch(n * d);

    rms_norm(ctx.x, d, l.attn_norm.data(), d, n, c.norm_eps, h, d);
    self_attention(l.attn, c, rope_, layer, ctx, h, o);
    add_inplace(ctx.x, o, n * d);

    rms_norm(ctx.x, d, l.ffn_norm.data(), d, n, c.norm_eps, h, d);
    swiglu_ffn(l.ffn, ctx, h, n, o);
    add_inplace(ctx.x, o, n * d);
}

}  // namespace pangolin
