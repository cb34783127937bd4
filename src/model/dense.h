// A pre-norm dense decoder layer, as Llama defines it and its descendants vary it:
//   x += attention(rms_norm(x)); x += swiglu(rms_norm(x))
// Architecture files (model/arch/) choose the options and register themselves.
#pragma once

#include <memory>

#include "model/blocks.h"

namespace pangolin {

// The configuration checks every dense architecture shares: a feed-forward width, and the
// RoPE pairing its weights were stored for.
void configure_dense(ModelConfig& config, const ModelSource& source, RopeLayout layout);

class DenseDecoder : public DecoderModel {
public:
    DenseDecoder(std::unique_ptr<ModelSource> source, ModelConfig config,
                 const LoadOptions& options, const AttentionOptions& attention_options);

protected:
    void layer_forward(int64_t layer, ForwardContext& ctx) override;

private:
    struct Layer {
        std::vector<float> attn_norm, ffn_norm;  // [n_embd]
        AttentionWeights attn;
        FfnWeights ffn;
    };
    std::vector<Layer> layers_;
    RopeTable rope_;
};

}  // namespace pangolin
