// Routers on hand-made scores: selection, weights, ties and group limiting.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "model/router.h"

using namespace pangolin;

namespace {

struct Routed {
    std::vector<int32_t> ids;
    std::vector<float> w;
};

Routed run(const RouterConfig& c, const std::vector<float>& logits,
           const std::vector<float>& bias = {}, const std::vector<float>& scale = {}) {
    validate_router(c);
    Routed r;
    r.ids.resize(size_t(c.k));
    r.w.resize(size_t(c.k));
    route(c, logits.data(), bias.empty() ? nullptr : bias.data(),
          scale.empty() ? nullptr : scale.data(), r.ids.data(), r.w.data());
    return r;
}

double sigmoid(double x) {
    return 1 / (1 + std::exp(-x));
}

}  // namespace

TEST(Router, SoftmaxTopkRenormalizes) {
    RouterConfig c{RouterType::SoftmaxTopk, 4, 2, 1, 1, true, 1.0};
    const std::vector<float> l = {std::log(1.0f), std::log(4.0f), std::log(2.0f), std::log(3.0f)};
    auto r = run(c, l);
    EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 3}));
    EXPECT_NEAR(r.w[0], 4.0 / 7, 1e-6);
    EXPECT_NEAR(r.w[1], 3.0 / 7, 1e-6);
    c.renormalize = false;  // plain softmax probabilities
    r = run(c, l);
    EXPECT_NEAR(r.w[0], 0.4, 1e-6);
    EXPECT_NEAR(r.w[1], 0.3, 1e-6);
}

TEST(Router, TiesGoToTheLowerIndex) {
    RouterConfig c{RouterType::SoftmaxTopk, 5, 2, 1, 1, true, 1.0};
    auto r = run(c, {0.5f, 1.0f, 0.2f, 1.0f, 1.0f});
    EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 3}));
    RouterConfig s{RouterType::SigmoidTopk, 4, 3, 1, 1, false, 1.0};
    r = run(s, {0.0f, 0.0f, 0.0f, 0.0f});
    EXPECT_EQ(r.ids, (std::vector<int32_t>{0, 1, 2}));
}

TEST(Router, SigmoidTopkScalesAfterRenormalizing) {
    RouterConfig c{RouterType::SigmoidTopk, 4, 2, 1, 1, true, 2.5};
    auto r = run(c, {0.0f, 2.0f, -1.0f, 1.0f});
    EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 3}));
    const double a = sigmoid(2), b = sigmoid(1);
    EXPECT_NEAR(r.w[0], 2.5 * a / (a + b), 1e-6);
    EXPECT_NEAR(r.w[1], 2.5 * b / (a + b), 1e-6);
}

// 8 experts in 4 groups of 2; two groups are kept. Group 0 holds the single best expert
// (0.9) but a weak partner, so its top-2 sum loses to groups 2 and 3, whose second-best
// experts beat group 0's best: expert 0 must not be chosen.
TEST(Router, GroupLimitedBestExpertLosesToOtherGroupsSecond) {
    RouterConfig c{RouterType::SigmoidGroupTopk, 8, 2, 4, 2, true, 1.0};
    auto logit = [](double p) { return float(std::log(p / (1 - p))); };
    const std::vector<float> l = {logit(0.9), logit(0.05), logit(0.3),  logit(0.3),
                                  logit(0.6), logit(0.55), logit(0.58), logit(0.57)};
    auto r = run(c, l);
    EXPECT_EQ(r.ids, (std::vector<int32_t>{4, 6}));
    EXPECT_NEAR(r.w[0], 0.6 / (0.6 + 0.58), 1e-5);
    // without group limiting (one group) the best expert wins
    RouterConfig flat = c;
    flat.n_group = 1;
    flat.topk_group = 1;
    EXPECT_EQ(run(flat, l).ids, (std::vector<int32_t>{0, 4}));
}

TEST(Router, SelectionBiasChoosesButDoesNotWeigh) {
    RouterConfig c{RouterType::SigmoidGroupTopk, 4, 1, 1, 1, false, 1.0};
    const std::vector<float> l = {1.0f, 0.0f, 0.0f, 0.0f};
    auto r = run(c, l, {0.0f, 0.0f, 0.9f, 0.0f});  // bias pushes expert 2 over expert 0
    EXPECT_EQ(r.ids[0], 2);
    EXPECT_NEAR(r.w[0], sigmoid(0.0), 1e-6);  // weight is the unbiased score
}

TEST(Router, MogePicksOnePerGroupAndScales) {
    RouterConfig c{RouterType::Moge, 8, 2, 2, 1, false, 1.0};
    const std::vector<float> l = {1.0f, 3.0f, 2.0f, 0.0f, 0.5f, 0.5f, 2.5f, 0.1f};
    const std::vector<float> scale = {1, 2, 1, 1, 1, 1, 0.5f, 1};
    auto r = run(c, l, {}, scale);
    EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 6}));  // best of experts 0-3, best of 4-7
    double z = 0;
    for (float v : l) z += std::exp(double(v));
    EXPECT_NEAR(r.w[0], 2 * std::exp(3.0) / z, 1e-6);    // softmax over all 8, × router_scale
    EXPECT_NEAR(r.w[1], 0.5 * std::exp(2.5) / z, 1e-6);  // no renormalization
}

TEST(RouterBadInput, ConfigurationsThatCannotBeHonoured) {
    EXPECT_THROW(validate_router({RouterType::SoftmaxTopk, 4, 5, 1, 1, true, 1.0}),
                 Error);  // k > experts
    EXPECT_THROW(validate_router({RouterType::SigmoidGroupTopk, 10, 2, 3, 1, true, 1.0}),
                 Error);  // 3 ∤ 10
    EXPECT_THROW(validate_router({RouterType::SigmoidGroupTopk, 8, 2, 4, 5, true, 1.0}),
                 Error);  // topk_group > groups
    EXPECT_THROW(validate_router({RouterType::SigmoidGroupTopk, 8, 5, 4, 2, true, 1.0}),
                 Error);  // k > kept experts
    EXPECT_THROW(validate_router({RouterType::Moge, 8, 3, 3, 1, false, 1.0}),
                 Error);  // groups ∤ experts
    EXPECT_THROW(router_type_from_name("best_guess"), Error);
    try {
        validate_router({RouterType::SoftmaxTopk, 4, 5, 1, 1, true, 1.0});
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("5 experts per token cannot be chosen from 4"),
                  std::string::npos);
    }
}
