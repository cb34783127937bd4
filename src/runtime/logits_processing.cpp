#include "runtime/logits_processing.h"

#include <algorithm>
#include <cmath>

namespace pangolin {

void TokenHistory::add_prompt(const std::vector<int32_t>& tokens) {
    seen_.insert(tokens.begin(), tokens.end());
}

void TokenHistory::add_output(int32_t token) {
    ++output_counts_[token];
    seen_.insert(token);
}

void apply_penalties(float* logits, int64_t n_vocab, const PenaltyParams& p,
                     const TokenHistory& h) {
    if (!p.active()) return;
    if (p.repetition != 1.0f)
        for (int32_t t : h.seen())
            if (t >= 0 && t < n_vocab)
                logits[t] = logits[t] > 0 ? logits[t] / p.repetition : logits[t] * p.repetition;
    for (const auto& [t, count] : h.output_counts()) {
        if (t < 0 || t >= n_vocab) continue;
        logits[t] -= p.presence + p.frequency * float(count);
    }
}

void apply_logit_bias(float* logits, int64_t n_vocab,
                      const std::vector<std::pair<int32_t, float>>& bias) {
    for (const auto& [t, b] : bias)
        if (t >= 0 && t < n_vocab) logits[t] += b;
}

TokenLogprobs compute_logprobs(const float* logits, int64_t n_vocab, int32_t token, int top_n) {
    double mx = -INFINITY;
    for (int64_t i = 0; i < n_vocab; ++i) mx = std::max(mx, double(logits[i]));
    double sum = 0;
    for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i]) - mx);
    const double log_z = mx + std::log(sum);
    TokenLogprobs r;
    r.logprob = float(double(logits[token]) - log_z);
    if (top_n > 0) {
        std::vector<int32_t> idx(static_cast<size_t>(n_vocab));
        for (int64_t i = 0; i < n_vocab; ++i) idx[size_t(i)] = int32_t(i);
        const int64_t k = std::min<int64_t>(top_n, n_vocab);
        std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t a, int32_t b) {
            return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
        });
        for (int64_t i = 0; i < k; ++i)
            r.top.emplace_back(idx[size_t(i)], float(double(logits[idx[size_t(i)]]) - log_z));
    }
    return r;
}

}  // namespace pangolin
