#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

namespace pangolin {

namespace {
uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}
}  // namespace

Rng::Rng(uint64_t seed) {
    for (auto& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Rng::uniform() {
    return double(next() >> 11) * 0x1.0p-53;
}

int32_t argmax(const float* x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i)
        if (x[i] > x[best]) best = i;
    return int32_t(best);
}

Sampler::Sampler(const SamplerParams& params) : params_(params), rng_(params.seed) {}

int32_t Sampler::sample(const float* logits, int64_t n_vocab) {
    if (params_.temperature <= 0.0f) return argmax(logits, n_vocab);

    auto& c = candidates_;
    c.clear();
    c.reserve(size_t(n_vocab));
    for (int64_t i = 0; i < n_vocab; ++i)
        if (std::isfinite(logits[i])) c.emplace_back(logits[i] / params_.temperature, int32_t(i));
    if (c.empty()) return argmax(logits, n_vocab);
    // Sorted by logit, descending; equal logits by ascending id (deterministic).
    auto by_logit = [](const auto& a, const auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    size_t keep = c.size();
    if (params_.top_k > 0 && size_t(params_.top_k) < keep) {
        keep = size_t(params_.top_k);
        std::partial_sort(c.begin(), c.begin() + long(keep), c.end(), by_logit);
    } else {
        std::sort(c.begin(), c.end(), by_logit);
    }
    c.resize(keep);
    // softmax over the kept candidates
    const float mx = c[0].first;
    double sum = 0;
    for (auto& [l, id] : c) {
        l = std::exp(l - mx);
        sum += l;
    }
    for (auto& [p, id] : c) p = float(p / sum);
    if (params_.top_p < 1.0f) {
        double cum = 0;
        size_t n = 0;
        while (n < c.size()) {
            cum += c[n].first;
            ++n;
            if (cum >= params_.top_p) break;
        }
        c.resize(std::max<size_t>(1, n));
    }
    if (params_.min_p > 0.0f) {
        const float floor = c[0].first * params_.min_p;
        size_t n = 1;
        while (n < c.size() && c[n].first >= floor) ++n;
        c.resize(n);
    }
    double total = 0;
    for (auto& [p, id] : c) total += p;
    double r = rng_.uniform() * total;
    for (auto& [p, id] : c) {
        r -= p;
        if (r < 0) return id;
    }
    return c.back().second;
}

}  // namespace pangolin
