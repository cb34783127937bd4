#include "model/decoder.h"

#include <map>

#include "core/error.h"

namespace pangolin {

DecoderModel::DecoderModel(std::unique_ptr<ModelSource> source, ModelConfig config,
                           const LoadOptions& options)
    : Model(std::move(source), std::move(config), options) {}

void DecoderModel::load_embeddings(const TensorLoader& loader) {
    const auto& c = config_;
    token_embd_ = loader.matrix("token_embd.weight", c.n_vocab, c.n_embd);
    output_norm_ = loader.vector("output_norm.weight", c.n_embd);
    if (auto out = loader.optional_matrix("output.weight", c.n_vocab, c.n_embd); out && !c.tie_embeddings) {
        output_ = *out;
    } else {
        output_ = token_embd_;  // tied embeddings: the output head reuses the embedding matrix
    }
}

void DecoderModel::forward(const Batch& batch, KvCache& cache, float* logits) {
    check_batch(batch, cache);
    const auto& c = config_;
    const int64_t n = int64_t(batch.size());
    if (n == 0) return;

    // Each sequence's tokens must continue where its cache ends, in order.
    std::map<SequenceKv*, int64_t> next_pos;
    for (int64_t i = 0; i < n; ++i) {
        SequenceKv* s = batch.seq[size_t(i)];
        auto [it, fresh] = next_pos.try_emplace(s, s->n_tokens);
        require(batch.pos[size_t(i)] == it->second, "batch position ", batch.pos[size_t(i)],
                " does not follow the sequence's cached positions (expected ", it->second, ")");
        ++it->second;
    }
    for (auto& [s, end] : next_pos) cache.reserve(*s, end);

    arena_.reset();
    ForwardContext ctx;
    ctx.n_tokens = n;
    ctx.pos = batch.pos.data();
    ctx.prompt = batch.prompt.data();
    ctx.cache = &cache;
    ctx.pool = pool_.get();
    ctx.arena = &arena_;
    ctx.slots.resize(size_t(n));
    ctx.block_tables.resize(size_t(n));
    ctx.n_visible.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
        const SequenceKv& s = *batch.seq[size_t(i)];
        ctx.slots[size_t(i)] = cache.slot(s, batch.pos[size_t(i)]);
        ctx.block_tables[size_t(i)] = s.blocks.data();
        ctx.n_visible[size_t(i)] = batch.pos[size_t(i)] + 1;
    }

    // x: [n, n_embd] ← embedding rows
    ctx.x = ctx.scratch(n * c.n_embd);
    for (int64_t i = 0; i < n; ++i)
        token_embd_.dequant(token_embd_, batch.tokens[size_t(i)], ctx.x + i * c.n_embd);

    for (int64_t layer = 0; layer < c.n_layer; ++layer) layer_forward(layer, ctx);

    for (auto& [s, end] : next_pos) s->n_tokens = end;

    // Final norm and output head, only for the rows whose logits are wanted.
    const int64_t n_out = int64_t(batch.n_logits());
    if (n_out == 0 || !logits) return;
    float* h = ctx.scratch(n_out * c.n_embd);
    for (int64_t i = 0, r = 0; i < n; ++i) {
        if (!batch.want_logits[size_t(i)]) continue;
        rms_norm(ctx.x + i * c.n_embd, c.n_embd, output_norm_.data(), c.n_embd, 1, c.norm_eps,
                 h + r * c.n_embd, c.n_embd);
        ++r;
    }
    matmul(output_, h, c.n_embd, n_out, logits, c.n_vocab, *pool_);
}

}  // namespace pangolin
