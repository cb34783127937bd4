#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/cpu/ops.h"

using namespace pangolin;

TEST(Ops, RmsNorm) {
    std::vector<float> x = {1, 2, 3, 4}, w = {1, 1, 2, 0.5f}, out(4);
    rms_norm(x.data(), 4, w.data(), 4, 1, 1e-6, out.data(), 4);
    const double rms = std::sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-6);
    EXPECT_NEAR(out[0], 1 / rms, 1e-6);
    EXPECT_NEAR(out[2], 2 * 3 / rms, 1e-6);
    EXPECT_NEAR(out[3], 0.5 * 4 / rms, 1e-6);
}

TEST(Ops, SoftmaxStableForLargeValues) {
    std::vector<float> x = {1000, 1001, 1002};
    softmax_inplace(x.data(), 3);
    EXPECT_NEAR(x[0] + x[1] + x[2], 1.0, 1e-6);
    EXPECT_GT(x[2], x[1]);
}

// Rotating interleaved pairs of a permuted vector equals rotating NEOX pairs of the
// original: the identity behind loading llama q/k from either GGUF or HF layouts.
TEST(Ops, RopeLayoutsAgreeUnderPermutation) {
    RopeConfig cfg;
    cfg.theta = 10000;
    cfg.n_dims = 8;
    cfg.layout = RopeLayout::Neox;
    RopeTable neox = make_rope_table(cfg);
    cfg.layout = RopeLayout::Interleaved;
    RopeTable inter = make_rope_table(cfg);
    std::vector<float> a = {1, 2, 3, 4, 5, 6, 7, 8};
    std::vector<float> b(8);
    for (int i = 0; i < 4; ++i) b[size_t(2 * i)] = a[size_t(i)], b[size_t(2 * i + 1)] = a[size_t(i + 4)];
    const int32_t pos = 7;
    apply_rope(neox, a.data(), 1, 8, 1, 8, &pos);
    apply_rope(inter, b.data(), 1, 8, 1, 8, &pos);
    for (int i = 0; i < 4; ++i) {
        EXPECT_NEAR(b[size_t(2 * i)], a[size_t(i)], 1e-5);
        EXPECT_NEAR(b[size_t(2 * i + 1)], a[size_t(i + 4)], 1e-5);
    }
}

TEST(Ops, RopePreservesNormAndPositionZeroIsIdentity) {
    RopeConfig cfg;
    cfg.n_dims = 16;
    RopeTable t = make_rope_table(cfg);
    std::vector<float> x(32), y;
    std::iota(x.begin(), x.end(), 1.0f);
    y = x;
    const int32_t zero = 0, far = 1234;
    apply_rope(t, y.data(), 1, 32, 2, 16, &zero);
    EXPECT_EQ(x, y);
    apply_rope(t, y.data(), 1, 32, 2, 16, &far);
    double nx = 0, ny = 0;
    for (size_t i = 0; i < 16; ++i) nx += double(x[i]) * x[i], ny += double(y[i]) * y[i];
    EXPECT_NEAR(nx, ny, 1e-3 * nx);
}

TEST(Ops, RopeScalingVariants) {
    RopeConfig cfg;
    cfg.n_dims = 64;
    cfg.theta = 500000;
    const RopeTable plain = make_rope_table(cfg);
    cfg.scaling = RopeScaling::Linear;
    cfg.factor = 4;
    const RopeTable lin = make_rope_table(cfg);
    EXPECT_NEAR(lin.freq[5], plain.freq[5] / 4, 1e-12);
    cfg.scaling = RopeScaling::Llama3;
    cfg.factor = 8;
    cfg.original_context = 8192;
    const RopeTable l3 = make_rope_table(cfg);
    EXPECT_DOUBLE_EQ(l3.freq[0], plain.freq[0]);           // short wavelength: unchanged
    EXPECT_NEAR(l3.freq[31], plain.freq[31] / 8, 1e-15);   // long wavelength: slowed
    cfg.scaling = RopeScaling::Yarn;
    cfg.factor = 4;
    cfg.original_context = 4096;
    const RopeTable yarn = make_rope_table(cfg);
    EXPECT_DOUBLE_EQ(yarn.freq[0], plain.freq[0]);
    EXPECT_NEAR(yarn.freq[31], plain.freq[31] / 4, 1e-15);
    EXPECT_NEAR(yarn.mscale, 1 + 0.1 * std::log(4.0), 1e-12);
}

TEST(Ops, AttentionMatchesNaiveOverPagedCache) {
    // 2 tokens of one sequence at positions 3 and 4, cache holding positions 0..4 in
    // scattered blocks of 2 slots; 4 query heads over 2 KV heads.
    const int64_t n_head = 4, n_kv = 2, dk = 8, dv = 6, bs = 2;
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> uni(-1, 1);
    std::vector<float> k(size_t(10 * n_kv * dk)), v(size_t(10 * n_kv * dv));
    for (auto& f : k) f = uni(rng);
    for (auto& f : v) f = uni(rng);
    const std::vector<int32_t> table = {3, 0, 4};  // positions 0-1 → block 3, 2-3 → 0, 4 → 4
    std::vector<float> q(size_t(2 * n_head * dk)), out(size_t(2 * n_head * dv));
    for (auto& f : q) f = uni(rng);
    PagedKvView view{k.data(), v.data(), n_kv * dk, n_kv * dv, bs};
    const int32_t* tables[2] = {table.data(), table.data()};
    const int32_t visible[2] = {4, 5};
    ThreadPool pool(2);
    attention({n_head, n_kv, dk, dv, 0.3f}, q.data(), n_head * dk, out.data(), n_head * dv, 2, view, tables,
              visible, pool);
    for (int t = 0; t < 2; ++t)
        for (int h = 0; h < n_head; ++h) {
            const int g = h / 2;
            std::vector<double> s;
            for (int j = 0; j < visible[t]; ++j) {
                const int slot = table[size_t(j / bs)] * int(bs) + j % int(bs);
                double d = 0;
                for (int i = 0; i < dk; ++i) d += q[size_t((t * n_head + h) * dk + i)] * k[size_t((slot * n_kv + g) * dk + i)];
                s.push_back(0.3 * d);
            }
            const double mx = *std::max_element(s.begin(), s.end());
            double sum = 0;
            for (auto& e : s) sum += (e = std::exp(e - mx));
            for (int i = 0; i < dv; ++i) {
                double o = 0;
                for (int j = 0; j < visible[t]; ++j) {
                    const int slot = table[size_t(j / bs)] * int(bs) + j % int(bs);
                    o += s[size_t(j)] / sum * v[size_t((slot * n_kv + g) * dv + i)];
                }
                EXPECT_NEAR(out[size_t((t * n_head + h) * dv + i)], o, 1e-5);
            }
        }
}
