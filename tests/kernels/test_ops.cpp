#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include <cstring>

#include "kernels/cpu/attention_kernel.h"
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
    for (int i = 0; i < 4; ++i)
        b[size_t(2 * i)] = a[size_t(i)], b[size_t(2 * i + 1)] = a[size_t(i + 4)];
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
    EXPECT_DOUBLE_EQ(l3.freq[0], plain.freq[0]);          // short wavelength: unchanged
    EXPECT_NEAR(l3.freq[31], plain.freq[31] / 8, 1e-15);  // long wavelength: slowed
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
    attention({n_head, n_kv, dk, dv, 0.3f}, q.data(), n_head * dk, out.data(), n_head * dv, 2, view,
              tables, visible, pool);
    for (int t = 0; t < 2; ++t)
        for (int h = 0; h < n_head; ++h) {
            const int g = h / 2;
            std::vector<double> s;
            for (int j = 0; j < visible[t]; ++j) {
                const int slot = table[size_t(j / bs)] * int(bs) + j % int(bs);
                double d = 0;
                for (int i = 0; i < dk; ++i)
                    d += q[size_t((t * n_head + h) * dk + i)] *
                         k[size_t((slot * n_kv + g) * dk + i)];
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

namespace {

struct RandomAttn {
    int64_t dk, dv, n_pos;
    std::vector<float> q, k, v;
    std::vector<const float*> qp, kp, vp;
    std::vector<int32_t> nv;
};

// n_q query rows over n_pos positions; row r sees n_vis[r] positions.
RandomAttn make_attn(int64_t n_q, int64_t n_pos, int64_t dk, int64_t dv,
                     const std::vector<int32_t>& n_vis, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uni(-1, 1);
    RandomAttn a{dk, dv, n_pos, {}, {}, {}, {}, {}, {}, n_vis};
    a.q.resize(size_t(n_q * dk)), a.k.resize(size_t(n_pos * dk)), a.v.resize(size_t(n_pos * dv));
    for (auto& f : a.q) f = 2 * uni(rng);
    for (auto& f : a.k) f = uni(rng);
    for (auto& f : a.v) f = uni(rng);
    for (int64_t r = 0; r < n_q; ++r) a.qp.push_back(a.q.data() + r * dk);
    for (int64_t p = 0; p < n_pos; ++p)
        a.kp.push_back(a.k.data() + p * dk), a.vp.push_back(a.v.data() + p * dv);
    return a;
}

std::vector<float> run_attn(AttnFn fn, const RandomAttn& a, int64_t r_begin, int64_t r_end) {
    const int64_t n = r_end - r_begin;
    std::vector<float> out(size_t(n * a.dv), -1.0f);
    std::vector<float*> op;
    for (int64_t r = 0; r < n; ++r) op.push_back(out.data() + r * a.dv);
    int64_t n_pos = 0;
    for (int64_t r = r_begin; r < r_end; ++r) n_pos = std::max<int64_t>(n_pos, a.nv[size_t(r)]);
    AttnJob j;
    j.n_q = n, j.q = a.qp.data() + r_begin, j.out = op.data(), j.n_vis = a.nv.data() + r_begin;
    j.n_pos = n_pos, j.k = a.kp.data(), j.v = a.vp.data(), j.dk = a.dk, j.dv = a.dv,
    j.scale = 0.37f;
    fn(j);
    return out;
}

std::vector<SimdLevel> attn_levels() {
    std::vector<SimdLevel> out;
    for (SimdLevel l : {SimdLevel::Avx2, SimdLevel::Avx512})
        if (simd_level_supported(l)) out.push_back(l);
    return out;
}

}  // namespace

// Each SIMD attention kernel against the scalar reference, on head sizes that are not
// multiples of the vector width and row counts spanning several lane groups.
TEST(AttentionKernel, SimdMatchesScalarReference) {
    uint32_t seed = 1;
    for (SimdLevel level : attn_levels()) {
        for (int64_t dk : {5, 24, 40, 64, 72}) {
            for (int64_t dv : {3, 16, 40, 72}) {
                for (int64_t n_q : {1, 7, 37}) {
                    const int64_t n_pos = 29;
                    std::vector<int32_t> nv;
                    for (int64_t r = 0; r < n_q; ++r)
                        nv.push_back(int32_t(1 + (r / 3) % n_pos));  // causal-like
                    const RandomAttn a = make_attn(n_q, n_pos, dk, dv, nv, seed++);
                    const auto simd = run_attn(attention_fn(level), a, 0, n_q);
                    const auto ref = run_attn(&ref::attention_job, a, 0, n_q);
                    for (size_t i = 0; i < ref.size(); ++i)
                        ASSERT_NEAR(simd[i], ref[i], 2e-5)
                            << simd_level_name(level) << " dk=" << dk << " dv=" << dv
                            << " n_q=" << n_q << " i=" << i;
                }
            }
        }
    }
}

// A query row's output is the same, bit for bit, whatever other rows share its job
// (alone, or in a batch at any position): the basis of batch invariance for attention.
TEST(AttentionKernel, RowIndependentOfItsJob) {
    std::vector<SimdLevel> levels = attn_levels();
    levels.push_back(SimdLevel::Scalar);
    for (SimdLevel level : levels) {
        const int64_t n_q = 41, dk = 40, dv = 24, n_pos = 33;
        std::vector<int32_t> nv;
        for (int64_t r = 0; r < n_q; ++r) nv.push_back(int32_t(1 + (r * 7) % n_pos));
        const RandomAttn a = make_attn(n_q, n_pos, dk, dv, nv, 5);
        const AttnFn fn = attention_fn(level);
        const auto all = run_attn(fn, a, 0, n_q);
        for (int64_t r : {0, 5, 16, 17, 40}) {
            const auto alone = run_attn(fn, a, r, r + 1);
            EXPECT_EQ(0, std::memcmp(alone.data(), all.data() + r * dv, size_t(dv) * 4))
                << simd_level_name(level) << " row " << r;
        }
        const auto tail = run_attn(fn, a, 13, n_q);  // rows in different lanes and groups
        EXPECT_EQ(0, std::memcmp(tail.data(), all.data() + 13 * dv, tail.size() * 4))
            << simd_level_name(level);
    }
}

// attention() over a batch gives each token exactly what it gets alone, with any thread count.
TEST(Ops, AttentionBatchInvariant) {
    const int64_t n_head = 6, n_kv = 2, dk = 24, dv = 16, bs = 4, n = 9;
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> uni(-1, 1);
    std::vector<float> k(size_t(16 * n_kv * dk)), v(size_t(16 * n_kv * dv)),
        q(size_t(n * n_head * dk));
    for (auto& f : k) f = uni(rng);
    for (auto& f : v) f = uni(rng);
    for (auto& f : q) f = uni(rng);
    const std::vector<int32_t> table = {2, 0, 3};
    PagedKvView view{k.data(), v.data(), n_kv * dk, n_kv * dv, bs};
    std::vector<const int32_t*> tables(static_cast<size_t>(n), table.data());
    std::vector<int32_t> visible;
    for (int64_t t = 0; t < n; ++t) visible.push_back(int32_t(3 + t));
    std::vector<float> batched(size_t(n * n_head * dv)), single(size_t(n_head * dv));
    ThreadPool one(1), three(3);
    attention({n_head, n_kv, dk, dv, 0.2f}, q.data(), n_head * dk, batched.data(), n_head * dv, n,
              view, tables.data(), visible.data(), three);
    for (int64_t t = 0; t < n; ++t) {
        attention({n_head, n_kv, dk, dv, 0.2f}, q.data() + t * n_head * dk, n_head * dk,
                  single.data(), n_head * dv, 1, view, tables.data(), visible.data() + t, one);
        EXPECT_EQ(0,
                  std::memcmp(single.data(), batched.data() + t * n_head * dv, single.size() * 4))
            << "token " << t;
    }
}

TEST(Ops, SiluMulSimdMatchesScalarReference) {
    std::mt19937 rng(4);
    std::uniform_real_distribution<float> uni(-12, 12);
    for (SimdLevel level : attn_levels()) {
        for (int64_t n : {1, 7, 8, 17, 100, 4864}) {
            std::vector<float> g(static_cast<size_t>(n)), u(g.size()), a(g.size()), b(g.size());
            for (auto& v : g) v = uni(rng);
            for (auto& v : u) v = uni(rng);
            g[0] = -100.0f;  // e^100 overflows: silu → −0
            if (n > 1) g[1] = 100.0f;
            silu_mul_row_fn(level)(g.data(), u.data(), n, a.data());
            silu_mul_row_ref(g.data(), u.data(), n, b.data());
            for (int64_t i = 0; i < n; ++i)
                ASSERT_NEAR(a[size_t(i)], b[size_t(i)], 1e-6f * std::fabs(b[size_t(i)]) + 1e-30f)
                    << simd_level_name(level) << " n=" << n << " i=" << i << " g=" << g[size_t(i)];
        }
    }
}
