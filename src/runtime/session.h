// One sequence over a model with its own KV cache: evaluate prompt tokens in one batch,
// then decode one token at a time. The building block of run, chat, perplexity and logits.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.h"

namespace pangolin {

class Session {
  public:
    // n_ctx: the most positions this session can hold (0: the model's training context).
    Session(Model& model, int64_t n_ctx = 0);

    Model& model() { return model_; }
    int64_t n_ctx() const { return n_ctx_; }
    int64_t n_past() const { return seq_.n_tokens; }

    // Appends tokens (one forward pass) and returns the logits of the last one ([n_vocab]),
    // or of every token ([n, n_vocab]) when all_logits is set.
    const std::vector<float>& eval(const std::vector<int32_t>& tokens, bool all_logits = false);
    // Forgets positions from n_keep on (keeps the first n_keep in the cache).
    void truncate(int64_t n_keep);
    const std::vector<float>& logits() const { return logits_; }

  private:
    Model& model_;
    int64_t n_ctx_;
    KvCache cache_;
    SequenceKv seq_;
    Batch batch_;
    std::vector<float> logits_;
};

}  // namespace pangolin
