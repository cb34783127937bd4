#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "runtime/sampler.h"

using namespace pangolin;

TEST(Sampler, GreedyPicksArgmaxLowestIdOnTies) {
    Sampler s({0.0f, 40, 1.0f, 0.0f, 1});
    std::vector<float> l = {0.1f, 3.0f, -1.0f, 3.0f};
    EXPECT_EQ(s.sample(l.data(), 4), 1);
}

TEST(Sampler, SameSeedSameTokens) {
    std::vector<float> l(50);
    for (size_t i = 0; i < l.size(); ++i) l[i] = float(i % 7) * 0.3f;
    SamplerParams p{1.0f, 0, 1.0f, 0.0f, 1234};
    Sampler a(p), b(p);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(a.sample(l.data(), 50), b.sample(l.data(), 50));
    p.seed = 99;
    Sampler c(p);
    Sampler d({1.0f, 0, 1.0f, 0.0f, 1234});
    int same = 0;
    for (int i = 0; i < 100; ++i) same += c.sample(l.data(), 50) == d.sample(l.data(), 50);
    EXPECT_LT(same, 100);
}

TEST(Sampler, TopKOneIsGreedy) {
    std::vector<float> l = {0.5f, 0.7f, 0.69f, -2.0f};
    Sampler s({2.0f, 1, 1.0f, 0.0f, 5});
    for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(l.data(), 4), 1);
}

TEST(Sampler, FiltersRestrictTheSupport) {
    // probabilities ∝ exp(l): top-p 0.5 keeps only the dominant token; min-p 0.5 keeps the two
    // tokens within a factor of 2 of the best.
    std::vector<float> l = {std::log(6.0f), std::log(3.0f), std::log(1.0f)};
    Sampler top_p({1.0f, 0, 0.5f, 0.0f, 7});
    for (int i = 0; i < 50; ++i) EXPECT_EQ(top_p.sample(l.data(), 3), 0);
    Sampler min_p({1.0f, 0, 1.0f, 0.5f, 7});
    std::map<int, int> seen;
    for (int i = 0; i < 400; ++i) seen[min_p.sample(l.data(), 3)]++;
    EXPECT_EQ(seen.count(2), 0u);
    EXPECT_GT(seen[1], 60);  // ≈ 1/3 of draws
    EXPECT_GT(seen[0], 180);
}

TEST(Sampler, TemperatureSharpens) {
    std::vector<float> l = {1.0f, 0.0f};
    Sampler cold({0.1f, 0, 1.0f, 0.0f, 3}), hot({10.0f, 0, 1.0f, 0.0f, 3});
    int cold_zero = 0, hot_zero = 0;
    for (int i = 0; i < 1000; ++i)
        cold_zero += cold.sample(l.data(), 2) == 0, hot_zero += hot.sample(l.data(), 2) == 0;
    EXPECT_GT(cold_zero, 990);
    EXPECT_LT(hot_zero, 650);
}
