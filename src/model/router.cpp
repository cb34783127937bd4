#include "model/router.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace pangolin {

namespace {

// Indices of the k largest values of score[0..n) (restricted to allowed[i] when given),
// best first; equal scores keep the lower index first.
std::vector<int32_t> top_k(const std::vector<double>& score, int64_t k,
                           const std::vector<uint8_t>* allowed = nullptr) {
    std::vector<int32_t> idx;
    idx.reserve(score.size());
    for (size_t i = 0; i < score.size(); ++i)
        if (!allowed || (*allowed)[i]) idx.push_back(int32_t(i));
    const auto better = [&](int32_t a, int32_t b) {
        return score[size_t(a)] > score[size_t(b)] ||
               (score[size_t(a)] == score[size_t(b)] && a < b);
    };
    k = std::min<int64_t>(k, int64_t(idx.size()));
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), better);
    idx.resize(size_t(k));
    return idx;
}

std::vector<double> softmax(const float* logits, int64_t n) {
    double mx = -INFINITY;
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, double(logits[i]));
    std::vector<double> p(static_cast<size_t>(n));
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += (p[size_t(i)] = std::exp(double(logits[i]) - mx));
    for (auto& v : p) v /= sum;
    return p;
}

std::vector<double> sigmoid(const float* logits, int64_t n) {
    std::vector<double> s(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) s[size_t(i)] = 1.0 / (1.0 + std::exp(-double(logits[i])));
    return s;
}

}  // namespace

RouterType router_type_from_name(const std::string& name) {
    if (name == "softmax_topk") return RouterType::SoftmaxTopk;
    if (name == "sigmoid_topk") return RouterType::SigmoidTopk;
    if (name == "sigmoid_group_topk") return RouterType::SigmoidGroupTopk;
    if (name == "moge") return RouterType::Moge;
    fail("unknown router type '", name,
         "' (known: softmax_topk, sigmoid_topk, sigmoid_group_topk, moge)");
}

const char* router_type_name(RouterType type) {
    switch (type) {
        case RouterType::SoftmaxTopk:
            return "softmax_topk";
        case RouterType::SigmoidTopk:
            return "sigmoid_topk";
        case RouterType::SigmoidGroupTopk:
            return "sigmoid_group_topk";
        case RouterType::Moge:
            return "moge";
    }
    return "?";
}

void validate_router(const RouterConfig& c) {
    require(c.n_expert > 0, "router: the number of experts must be positive, got ", c.n_expert);
    require(c.k > 0 && c.k <= c.n_expert, "router: ", c.k,
            " experts per token cannot be chosen from ", c.n_expert, " experts");
    if (c.type == RouterType::SigmoidGroupTopk || c.type == RouterType::Moge) {
        require(c.n_group > 0 && c.n_expert % c.n_group == 0, "router: ", c.n_expert,
                " experts cannot be split into ", c.n_group, " equal groups");
    }
    if (c.type == RouterType::SigmoidGroupTopk) {
        require(c.topk_group > 0 && c.topk_group <= c.n_group, "router: keeping ", c.topk_group,
                " groups out of ", c.n_group, " is impossible");
        require(c.n_expert / c.n_group >= 2,
                "router: sigmoid_group_topk ranks groups by their two best experts, "
                "but groups have only ",
                c.n_expert / c.n_group, " expert");
        require(c.k <= c.topk_group * (c.n_expert / c.n_group), "router: ", c.k,
                " experts per token exceed the ", c.topk_group * (c.n_expert / c.n_group),
                " experts of the kept groups");
    }
    if (c.type == RouterType::Moge)
        require(c.k == c.n_group, "router: moge picks one expert per group, so experts per token (",
                c.k, ") must equal the group count (", c.n_group, ")");
}

void route(const RouterConfig& c, const float* logits, const float* bias, const float* expert_scale,
           int32_t* ids, float* weights) {
    const int64_t n = c.n_expert;
    std::vector<int32_t> chosen;
    std::vector<double> w;  // weight of each expert before renormalization
    switch (c.type) {
        case RouterType::SoftmaxTopk: {
            w = softmax(logits, n);
            chosen = top_k(w, c.k);
            break;
        }
        case RouterType::SigmoidTopk: {
            w = sigmoid(logits, n);
            std::vector<double> sel = w;
            if (bias)
                for (int64_t i = 0; i < n; ++i) sel[size_t(i)] += bias[i];
            chosen = top_k(sel, c.k);
            break;
        }
        case RouterType::SigmoidGroupTopk: {
            w = sigmoid(logits, n);
            std::vector<double> sel = w;
            if (bias)
                for (int64_t i = 0; i < n; ++i) sel[size_t(i)] += bias[i];
            const int64_t per = n / c.n_group;
            std::vector<double> group_score(static_cast<size_t>(c.n_group));
            for (int64_t g = 0; g < c.n_group; ++g) {
                std::vector<double> members(sel.begin() + g * per, sel.begin() + (g + 1) * per);
                const auto best = top_k(members, 2);
                group_score[size_t(g)] = members[size_t(best[0])] + members[size_t(best[1])];
            }
            const auto groups = top_k(group_score, c.topk_group);
            std::vector<uint8_t> allowed(static_cast<size_t>(n), 0);
            for (int32_t g : groups)
                for (int64_t i = g * per; i < (g + 1) * per; ++i) allowed[size_t(i)] = 1;
            chosen = top_k(sel, c.k, &allowed);
            break;
        }
        case RouterType::Moge: {
            w = softmax(logits, n);
            const int64_t per = n / c.n_group;
            for (int64_t g = 0; g < c.n_group; ++g) {
                int64_t best = g * per;
                for (int64_t i = g * per + 1; i < (g + 1) * per; ++i)
                    if (w[size_t(i)] > w[size_t(best)]) best = i;
                chosen.push_back(int32_t(best));
            }
            if (expert_scale)
                for (int32_t e : chosen) w[size_t(e)] *= expert_scale[e];
            break;
        }
    }
    double total = 0;
    for (int32_t e : chosen) total += w[size_t(e)];
    const double norm = c.renormalize && total > 0 ? 1.0 / total : 1.0;
    for (size_t i = 0; i < chosen.size(); ++i) {
        ids[i] = chosen[i];
        weights[i] = float(w[size_t(chosen[i])] * norm * c.scale);
    }
}

}  // namespace pangolin
