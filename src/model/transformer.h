// A decoder-only transformer whose layers vary by data, covering every architecture Pangolin
// runs. Each layer is
//
//   x += post_attn_norm?( attention(rms_norm(x, attn_norm)) )    GQA self-attention or MLA
//   x += post_ffn_norm?( ffn(rms_norm(x, ffn_norm)) )             SwiGLU MLP or mixture of experts
//
// (the optional post-norms are openPangu-Ultra's "sandwich" norms). Architecture files in
// model/arch/ fill in the configuration and say how to load each layer.
#pragma once

#include <functional>
#include <memory>
#include <variant>

#include "model/blocks.h"
#include "model/mla.h"
#include "model/moe.h"

namespace pangolin {

struct TransformerLayer {
    std::vector<float> attn_norm, ffn_norm;            // [n_embd]
    std::vector<float> post_attn_norm, post_ffn_norm;  // [n_embd] or empty
    std::variant<AttentionWeights, MlaWeights> attn;
    std::variant<FfnWeights, MoeWeights> ffn;
};

using LayerLoader =
    std::function<TransformerLayer(const TensorLoader&, int64_t layer, const ModelConfig&)>;

class TransformerDecoder : public DecoderModel {
  public:
    TransformerDecoder(std::unique_ptr<ModelSource> source, ModelConfig config,
                       const LoadOptions& options, const LayerLoader& load_layer,
                       std::map<std::string, std::string> hf_stems = {});

    KvCacheShape kv_shape(int64_t n_ctx) const override;
    const TransformerLayer& layer(int64_t i) const { return layers_[size_t(i)]; }

  protected:
    void layer_forward(int64_t layer, ForwardContext& ctx) override;

  private:
    std::vector<TransformerLayer> layers_;
    RopeTable rope_;
    float mla_scale_ = 0;
};

// The configuration checks every dense architecture shares: a feed-forward width, and the
// RoPE pairing its weights were stored for.
void configure_dense(ModelConfig& config, const ModelSource& source, RopeLayout layout);

// The checks every mixture-of-experts architecture shares (expert counts and width) and
// its router, which configure() picks by name.
void configure_moe(ModelConfig& config, const ModelSource& source, const std::string& router);

// The checks of the MLA architectures (DeepSeek, openPangu-Ultra): latent sizes present;
// RoPE on the rope part's interleaved pairs.
void configure_mla(ModelConfig& config, const ModelSource& source);

// The pre-norm layer of Llama and its dense descendants (attention options are data).
TransformerLayer load_dense_layer(const TensorLoader& loader, int64_t layer, const ModelConfig& c,
                                  const AttentionOptions& attention);
// A model of such layers: what a dense architecture file creates.
std::unique_ptr<Model> make_dense_model(std::unique_ptr<ModelSource> source, ModelConfig config,
                                        const LoadOptions& options,
                                        const AttentionOptions& attention);

// A mixture-of-experts layer around the given attention: norms (with the post-norms when
// `sandwich`), a dense FFN for the first n_dense_lead layers, else the routed experts.
TransformerLayer load_moe_layer(const TensorLoader& loader, int64_t layer, const ModelConfig& c,
                                std::variant<AttentionWeights, MlaWeights> attention,
                                const RouterConfig& router, const MoeNames& names = {},
                                bool sandwich = false);

}  // namespace pangolin
