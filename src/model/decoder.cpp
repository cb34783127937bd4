#include "model/decoder.h"

#include <algorithm>
#include <chrono>
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
    if (auto out = loader.optional_matrix("output.weight", c.n_vocab, c.n_embd);
        out && !c.tie_embeddings) {
        output_ = *out;
    } else {
        output_ = token_embd_;  // tied embeddings: the output head reuses the embedding matrix
    }
}

namespace {

// Rank 0 → followers, one message per forward pass (and one to stop):
//   [op, cache id, n_layer, k_width, v_width, block_size, n_blocks,
//    n_copies, (from, to, n_slots) × n_copies,
//    n_tokens, tokens, pos, want_logits, prompt, sequence index per token,
//    n_seqs, per sequence: (n_tokens cached, n_blocks, blocks...)]
enum StepOp : int64_t { k_step_forward = 1, k_step_stop = 2 };

void send_message(Communicator& comm, std::vector<int64_t>& msg) {
    int64_t n = int64_t(msg.size());
    comm.broadcast(&n, sizeof n, 0);
    comm.broadcast(msg.data(), msg.size() * sizeof(int64_t), 0);
}

std::vector<int64_t> receive_message(Communicator& comm) {
    int64_t n = 0;
    comm.broadcast(&n, sizeof n, 0);
    std::vector<int64_t> msg(static_cast<size_t>(n));
    comm.broadcast(msg.data(), msg.size() * sizeof(int64_t), 0);
    return msg;
}

}  // namespace

DecoderModel::~DecoderModel() {
    if (comm_->distributed() && comm_->rank() == 0) release_followers();
}

void DecoderModel::release_followers() {
    if (!comm_->distributed() || comm_->rank() != 0 || followers_released_) return;
    followers_released_ = true;
    std::vector<int64_t> msg = {k_step_stop};
    send_message(*comm_, msg);
}

void DecoderModel::send_step(const Batch& batch, KvCache& cache) {
    const KvCacheShape& sh = cache.shape();
    std::vector<int64_t> m = {k_step_forward, int64_t(cache.id()), sh.n_layer, sh.k_width,
                              sh.v_width,     sh.block_size,       sh.n_blocks};
    const auto copies = cache.take_copy_log();
    m.push_back(int64_t(copies.size()));
    for (const auto& cp : copies) m.insert(m.end(), {cp.from, cp.to, cp.n_slots});
    const int64_t n = int64_t(batch.size());
    m.push_back(n);
    for (int64_t i = 0; i < n; ++i) m.push_back(batch.tokens[size_t(i)]);
    for (int64_t i = 0; i < n; ++i) m.push_back(batch.pos[size_t(i)]);
    for (int64_t i = 0; i < n; ++i) m.push_back(batch.want_logits[size_t(i)]);
    for (int64_t i = 0; i < n; ++i) m.push_back(batch.prompt[size_t(i)]);
    std::vector<const SequenceKv*> seqs;
    for (int64_t i = 0; i < n; ++i) {
        auto it = std::find(seqs.begin(), seqs.end(), batch.seq[size_t(i)]);
        if (it == seqs.end()) it = seqs.insert(seqs.end(), batch.seq[size_t(i)]);
        m.push_back(int64_t(it - seqs.begin()));
    }
    m.push_back(int64_t(seqs.size()));
    for (const SequenceKv* s : seqs) {
        m.push_back(s->n_tokens);
        m.push_back(int64_t(s->blocks.size()));
        m.insert(m.end(), s->blocks.begin(), s->blocks.end());
    }
    send_message(*comm_, m);
}

void DecoderModel::follow() {
    if (!comm_->distributed() || comm_->rank() == 0) return;
    for (;;) {
        // Time spent waiting for the next step is idle time, not communication.
        const double before = comm_->stats().seconds;
        const auto t0 = std::chrono::steady_clock::now();
        const std::vector<int64_t> m = receive_message(*comm_);
        const double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        comm_->mutable_stats().seconds = before;
        comm_->mutable_stats().idle_seconds += waited;
        size_t at = 0;
        auto next = [&] {
            if (at >= m.size()) comm_->abort(1, "malformed step message from rank 0");
            return m[at++];
        };
        const int64_t op = next();
        if (op == k_step_stop) return;
        if (op != k_step_forward)
            comm_->abort(1, str_cat("unknown step operation ", op, " from rank 0"));
        const uint64_t cache_id = uint64_t(next());
        KvCacheShape sh;
        sh.n_layer = next();
        sh.k_width = next();
        sh.v_width = next();
        sh.block_size = next();
        sh.n_blocks = next();
        auto& cache = follower_caches_[cache_id];
        if (!cache) cache = std::make_unique<KvCache>(sh);
        const int64_t n_copies = next();
        for (int64_t i = 0; i < n_copies; ++i) {
            const int32_t from = int32_t(next()), to = int32_t(next());
            cache->copy_block(from, to, next());
        }
        cache->take_copy_log();
        const int64_t n = next();
        Batch b;
        std::vector<int64_t> tok(static_cast<size_t>(n)), pos(tok.size()), want(tok.size()),
            prompt(tok.size()), sidx(tok.size());
        for (auto* v : {&tok, &pos, &want, &prompt, &sidx})
            for (auto& x : *v) x = next();
        std::vector<SequenceKv> seqs(static_cast<size_t>(next()));
        for (auto& s : seqs) {
            s.n_tokens = next();
            s.blocks.resize(size_t(next()));
            for (auto& blk : s.blocks) blk = int32_t(next());
        }
        for (int64_t i = 0; i < n; ++i)
            b.add(int32_t(tok[size_t(i)]), int32_t(pos[size_t(i)]), &seqs[size_t(sidx[size_t(i)])],
                  want[size_t(i)] != 0, prompt[size_t(i)] != 0);
        try {
            compute(b, *cache, nullptr);
        } catch (const std::exception& e) {
            comm_->abort(1, e.what());
        }
    }
}

void DecoderModel::forward(const Batch& batch, KvCache& cache, float* logits) {
    check_batch(batch, cache);
    require(!comm_->distributed() || comm_->rank() == 0,
            "internal: only rank 0 drives a distributed model");
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
    if (comm_->distributed())
        send_step(batch, cache);
    else
        cache.take_copy_log();
    compute(batch, cache, logits);
}

void DecoderModel::compute(const Batch& batch, KvCache& cache, float* logits) {
    const auto& c = config_;
    const int64_t n = int64_t(batch.size());
    std::map<SequenceKv*, int64_t> next_pos;
    for (int64_t i = 0; i < n; ++i) next_pos[batch.seq[size_t(i)]] = batch.pos[size_t(i)] + 1;
    const double comm_before = comm_->stats().seconds;
    const auto t0 = std::chrono::steady_clock::now();

    arena_.reset();
    ForwardContext ctx;
    ctx.n_tokens = n;
    ctx.pos = batch.pos.data();
    ctx.prompt = batch.prompt.data();
    ctx.cache = &cache;
    ctx.pool = pool_.get();
    ctx.arena = &arena_;
    ctx.comm = comm_.get();
    ctx.expert_stats = &expert_stats_;
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
    expert_stats_.compute_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() -
        (comm_->stats().seconds - comm_before);

    // Final norm and output head, only for the rows whose logits are wanted; the normed
    // rows themselves when the batch asks for hidden states.
    const int64_t n_out = int64_t(batch.n_logits());
    if (n_out == 0 || !logits) return;
    float* h = batch.hidden ? logits : ctx.scratch(n_out * c.n_embd);
    for (int64_t i = 0, r = 0; i < n; ++i) {
        if (!batch.want_logits[size_t(i)]) continue;
        rms_norm(ctx.x + i * c.n_embd, c.n_embd, output_norm_.data(), c.n_embd, 1, c.norm_eps,
                 h + r * c.n_embd, c.n_embd);
        ++r;
    }
    if (batch.hidden) return;
    matmul(output_, h, c.n_embd, n_out, logits, c.n_vocab, *pool_);
}

}  // namespace pangolin
