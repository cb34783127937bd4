// The skeleton shared by every decoder-only architecture: token embedding, a stack of
// layers over a residual stream, final RMSNorm and the output head. Architectures supply
// the layers (layer_forward) and their weights.
#pragma once

#include <map>
#include <vector>

#include "kernels/cpu/matmul.h"
#include "kernels/cpu/ops.h"
#include "model/arena.h"
#include "model/model.h"
#include "model/weights.h"

namespace pangolin {

// Per-pass state handed to every layer. x is the residual stream [n_tokens, n_embd].
struct ForwardContext {
    int64_t n_tokens = 0;
    const int32_t* pos = nullptr;
    const uint8_t* prompt = nullptr;           // per token: part of a prompt being prefilled
    std::vector<int64_t> slots;                // KV-cache slot of each token
    std::vector<const int32_t*> block_tables;  // each token's sequence block table
    std::vector<int32_t> n_visible;            // positions each token attends to (pos + 1)
    KvCache* cache = nullptr;
    ThreadPool* pool = nullptr;
    Arena* arena = nullptr;
    Communicator* comm = nullptr;
    ExpertLoadStats* expert_stats = nullptr;
    float* x = nullptr;

    float* scratch(int64_t n_floats) { return arena->alloc(size_t(n_floats)); }
};

class DecoderModel : public Model {
  public:
    ~DecoderModel() override;
    void forward(const Batch& batch, KvCache& cache, float* logits) override;
    void follow() override;
    void release_followers() override;

  protected:
    DecoderModel(std::unique_ptr<ModelSource> source, ModelConfig config,
                 const LoadOptions& options);

    // Loads token_embd, output_norm and output (or ties output to token_embd).
    void load_embeddings(const TensorLoader& loader);
    virtual void layer_forward(int64_t layer, ForwardContext& ctx) = 0;

    Weight token_embd_;
    std::vector<float> output_norm_;
    Weight output_;

  private:
    // Runs the layers for a batch whose sequences already hold the blocks it needs.
    void compute(const Batch& batch, KvCache& cache, float* logits);
    void send_step(const Batch& batch, KvCache& cache);

    Arena arena_;
    bool followers_released_ = false;
    std::map<uint64_t, std::unique_ptr<KvCache>>
        follower_caches_;  // followers: rank 0's caches by id
};

}  // namespace pangolin
