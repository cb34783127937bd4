#include "runtime/session.h"

#include "core/error.h"

namespace pangolin {

namespace {
int64_t resolve_ctx(const Model& m, int64_t n_ctx) {
    const int64_t train = m.config().n_ctx_train > 0 ? m.config().n_ctx_train : 4096;
    return n_ctx > 0 ? n_ctx : train;
}
}  // namespace

Session::Session(Model& model, int64_t n_ctx)
    : model_(model), n_ctx_(resolve_ctx(model, n_ctx)), cache_(model.kv_shape(n_ctx_)) {}

const std::vector<float>& Session::eval(const std::vector<int32_t>& tokens, bool all_logits) {
    require(!tokens.empty(), "nothing to evaluate: the token list is empty");
    const int64_t n = int64_t(tokens.size());
    require(seq_.n_tokens + n <= n_ctx_, "the prompt does not fit the context: ", seq_.n_tokens,
            " cached + ", n, " new tokens exceed the context size of ", n_ctx_,
            " (raise --ctx-size or shorten the input)");
    batch_.clear();
    for (int64_t i = 0; i < n; ++i)
        batch_.add(tokens[size_t(i)], int32_t(seq_.n_tokens + i), &seq_, all_logits || i == n - 1,
                   n > 1);
    const int64_t n_vocab = model_.config().n_vocab;
    logits_.resize(size_t((all_logits ? n : 1) * n_vocab));
    model_.forward(batch_, cache_, logits_.data());
    return logits_;
}

void Session::truncate(int64_t n_keep) {
    cache_.truncate(seq_, n_keep);
}

}  // namespace pangolin
