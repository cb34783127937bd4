#include "model/model.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"

namespace pangolin {

size_t Batch::n_logits() const {
    return size_t(std::count(want_logits.begin(), want_logits.end(), uint8_t(1)));
}

void Batch::clear() {
    tokens.clear();
    pos.clear();
    seq.clear();
    want_logits.clear();
    prompt.clear();
    hidden = false;
}

Model::Model(std::unique_ptr<ModelSource> source, ModelConfig config, const LoadOptions& options)
    : source_(std::move(source)),
      config_(std::move(config)),
      pool_(std::make_unique<ThreadPool>(options.n_threads > 0 ? options.n_threads
                                                               : ThreadPool::default_threads())),
      options_(options),
      comm_(options.comm ? options.comm : world_communicator()) {
    if (options_.parallel != ParallelMode::None && !comm_->distributed())
        log_info("note: --ep/--tp given but this is a single process (start with mpirun -np N)");
}

KvCacheShape Model::kv_shape(int64_t n_ctx) const {
    KvCacheShape s;
    s.n_layer = config_.n_layer;
    s.k_width = config_.n_head_kv * config_.head_dim;
    s.v_width = config_.n_head_kv * config_.head_dim_v;
    s.block_size = 16;
    s.n_blocks = (n_ctx + s.block_size - 1) / s.block_size;
    return s;
}

int64_t Model::n_params() const {
    int64_t n = 0;
    for (const auto* t : source_->tensors()) n += t->numel();
    return n;
}

void Model::check_batch(const Batch& batch, const KvCache& cache) const {
    require(batch.tokens.size() == batch.pos.size() && batch.pos.size() == batch.seq.size() &&
                batch.seq.size() == batch.want_logits.size() &&
                batch.want_logits.size() == batch.prompt.size(),
            "malformed batch: token, position, sequence and logits lists differ in length");
    for (size_t i = 0; i < batch.size(); ++i) {
        const int32_t tok = batch.tokens[i];
        require(tok >= 0 && tok < config_.n_vocab, "token id ", tok,
                " is outside the vocabulary (valid ids are 0 to ", config_.n_vocab - 1, ")");
        require(batch.pos[i] >= 0 && batch.pos[i] < cache.capacity_tokens(), "position ",
                batch.pos[i], " is outside the context of ", cache.capacity_tokens(), " tokens");
    }
}

}  // namespace pangolin
