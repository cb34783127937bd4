#include "kernels/cpu/ops.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "kernels/cpu/attention_kernel.h"
#include "kernels/cpu/gemm.h"

namespace pangolin {

namespace {

// Rows [0, n_rows) of `work` as one call, or split over the pool when there is enough work.
template <class F>
void for_rows(ThreadPool* pool, int64_t n_rows, int64_t row_cost, F&& work) {
    if (pool && pool->size() > 1 && n_rows > 1 && n_rows * row_cost >= (1 << 15))
        pool->parallel_for(n_rows, [&](int64_t b, int64_t e, int) { work(b, e); });
    else
        work(0, n_rows);
}

}  // namespace

void rms_norm(const float* x, int64_t x_stride, const float* w, int64_t n, int64_t n_tokens,
              double eps, float* out, int64_t out_stride, ThreadPool* pool) {
    for_rows(pool, n_tokens, n, [&](int64_t t0, int64_t t1) {
        rms_norm(x + t0 * x_stride, x_stride, w, n, t1 - t0, eps, out + t0 * out_stride,
                 out_stride);
    });
}

void rms_norm(const float* x, int64_t x_stride, const float* w, int64_t n, int64_t n_tokens,
              double eps, float* out, int64_t out_stride) {
    for (int64_t t = 0; t < n_tokens; ++t) {
        const float* xr = x + t * x_stride;
        float* o = out + t * out_stride;
        double ss = 0;
        for (int64_t i = 0; i < n; ++i) ss += double(xr[i]) * double(xr[i]);
        const float scale = float(1.0 / std::sqrt(ss / double(n) + eps));
        if (w) {
            for (int64_t i = 0; i < n; ++i) o[i] = xr[i] * scale * w[i];
        } else {
            for (int64_t i = 0; i < n; ++i) o[i] = xr[i] * scale;
        }
    }
}

void add_inplace(float* x, const float* y, int64_t n, ThreadPool* pool) {
    constexpr int64_t chunk = 4096;
    for_rows(pool, (n + chunk - 1) / chunk, chunk, [&](int64_t c0, int64_t c1) {
        for (int64_t i = c0 * chunk, e = std::min(n, c1 * chunk); i < e; ++i) x[i] += y[i];
    });
}

void silu_mul_row_ref(const float* g, const float* u, int64_t n, float* o) {
    for (int64_t i = 0; i < n; ++i) o[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

SiluMulRowFn silu_mul_row_fn(SimdLevel level) {
#if defined(PANGOLIN_HAVE_AVX512)
    if (level == SimdLevel::Avx512) return &avx512::silu_mul_row;
#endif
#if defined(PANGOLIN_HAVE_AVX2)
    if (level >= SimdLevel::Avx2) return &avx2::silu_mul_row;
#endif
    (void)level;
    return &silu_mul_row_ref;
}

void silu_mul(const float* gate, int64_t gate_stride, const float* up, int64_t up_stride, int64_t n,
              int64_t n_tokens, float* out, int64_t out_stride, ThreadPool* pool) {
    const SiluMulRowFn row = silu_mul_row_fn(simd_level());
    for_rows(pool, n_tokens, n * 8, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t)
            row(gate + t * gate_stride, up + t * up_stride, n, out + t * out_stride);
    });
}

void softmax_inplace(float* x, int64_t n) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - mx);
        sum += x[i];
    }
    const float inv = float(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void add_bias(float* x, int64_t x_stride, const float* bias, int64_t n, int64_t n_tokens) {
    for (int64_t t = 0; t < n_tokens; ++t) add_inplace(x + t * x_stride, bias, n);
}

RopeTable make_rope_table(const RopeConfig& rope) {
    require(rope.n_dims > 0 && rope.n_dims % 2 == 0,
            "rotary dimension count must be positive and even, got ", rope.n_dims);
    RopeTable t;
    t.layout = rope.layout;
    t.n_dims = rope.n_dims;
    const int64_t pairs = rope.n_dims / 2;
    t.freq.resize(size_t(pairs));
    t.extrap_mix.assign(size_t(pairs), 1.0);
    for (int64_t i = 0; i < pairs; ++i)
        t.freq[size_t(i)] = std::pow(rope.theta, -2.0 * double(i) / double(rope.n_dims));

    switch (rope.scaling) {
        case RopeScaling::None:
            break;
        case RopeScaling::Linear:
            for (auto& f : t.freq) f /= rope.factor;
            break;
        case RopeScaling::Llama3: {
            // Llama 3.1: long wavelengths slowed by `factor`, short ones kept, smooth between.
            const double orig = double(rope.original_context);
            const double low_wavelen = orig / rope.low_freq_factor;
            const double high_wavelen = orig / rope.high_freq_factor;
            for (auto& f : t.freq) {
                const double wavelen = 2 * std::numbers::pi / f;
                if (wavelen < high_wavelen) continue;
                if (wavelen > low_wavelen) {
                    f /= rope.factor;
                } else {
                    const double smooth = (orig / wavelen - rope.low_freq_factor) /
                                          (rope.high_freq_factor - rope.low_freq_factor);
                    f = (1 - smooth) * f / rope.factor + smooth * f;
                }
            }
            break;
        }
        case RopeScaling::Yarn: {
            // YaRN: pair i mixes the interpolated frequency (f / factor) with the original
            // one; ramp from 1 (keep original) below `low` to 0 (interpolate) above `high`.
            const double n = double(rope.n_dims), base = rope.theta,
                         orig = double(rope.original_context);
            auto corr_dim = [&](double n_rot) {
                return n * std::log(orig / (n_rot * 2 * std::numbers::pi)) / (2 * std::log(base));
            };
            const double low = std::max(0.0, std::floor(corr_dim(rope.beta_fast)));
            const double high = std::min(n - 1, std::ceil(corr_dim(rope.beta_slow)));
            for (int64_t i = 0; i < pairs; ++i) {
                const double y = (double(i) - low) / std::max(0.001, high - low);
                const double ramp = 1 - std::min(1.0, std::max(0.0, y));
                t.extrap_mix[size_t(i)] = ramp;
                const double f = t.freq[size_t(i)];
                t.freq[size_t(i)] = f / rope.factor * (1 - ramp) + f * ramp;
            }
            t.mscale = 1.0 + 0.1 * std::log(rope.factor);
            break;
        }
    }
    if (!rope.freq_factors.empty()) {
        require(int64_t(rope.freq_factors.size()) >= pairs, "rope_freqs has ",
                rope.freq_factors.size(), " factors, need ", pairs);
        for (int64_t i = 0; i < pairs; ++i)
            t.freq[size_t(i)] /= double(rope.freq_factors[size_t(i)]);
    }
    t.mscale *= rope.yarn_attn_factor;
    return t;
}

void apply_rope(const RopeTable& table, float* x, int64_t n_tokens, int64_t token_stride,
                int64_t n_heads, int64_t head_stride, const int32_t* pos, ThreadPool* pool) {
    if (pool) {
        for_rows(pool, n_tokens, n_heads * table.n_dims * 4, [&](int64_t t0, int64_t t1) {
            apply_rope(table, x + t0 * token_stride, t1 - t0, token_stride, n_heads, head_stride,
                       pos + t0, nullptr);
        });
        return;
    }
    const int64_t pairs = table.n_dims / 2;
    std::vector<float> cs(static_cast<size_t>(pairs)), sn(static_cast<size_t>(pairs));
    for (int64_t t = 0; t < n_tokens; ++t) {
        for (int64_t i = 0; i < pairs; ++i) {
            const double a = double(pos[t]) * table.freq[size_t(i)];
            cs[size_t(i)] = float(std::cos(a) * table.mscale);
            sn[size_t(i)] = float(std::sin(a) * table.mscale);
        }
        for (int64_t h = 0; h < n_heads; ++h) {
            float* v = x + t * token_stride + h * head_stride;
            if (table.layout == RopeLayout::Neox) {
                for (int64_t i = 0; i < pairs; ++i) {
                    const float a = v[i], b = v[i + pairs];
                    v[i] = a * cs[size_t(i)] - b * sn[size_t(i)];
                    v[i + pairs] = a * sn[size_t(i)] + b * cs[size_t(i)];
                }
            } else {
                for (int64_t i = 0; i < pairs; ++i) {
                    const float a = v[2 * i], b = v[2 * i + 1];
                    v[2 * i] = a * cs[size_t(i)] - b * sn[size_t(i)];
                    v[2 * i + 1] = a * sn[size_t(i)] + b * cs[size_t(i)];
                }
            }
        }
    }
}

void attention(const AttentionShape& s, const float* q, int64_t q_stride, float* out,
               int64_t out_stride, int64_t n_tokens, const PagedKvView& kv,
               const int32_t* const* block_tables, const int32_t* n_visible, ThreadPool& pool) {
    const int64_t group = s.n_head / s.n_head_kv;
    const int64_t bs = kv.block_size;
    // Jobs: runs of consecutive tokens of one sequence (same block table), ~64 query rows
    // each, times the KV heads. A job's query rows are its tokens' heads of that KV head.
    const int64_t tokens_per_job = std::max<int64_t>(1, 64 / group);
    std::vector<std::pair<int64_t, int64_t>> runs;
    for (int64_t t = 0; t < n_tokens;) {
        int64_t e = t + 1;
        while (e < n_tokens && e - t < tokens_per_job && block_tables[e] == block_tables[t]) ++e;
        runs.emplace_back(t, e);
        t = e;
    }
    const AttnFn kernel = attention_fn(simd_level());
    pool.parallel_for(int64_t(runs.size()) * s.n_head_kv, [&](int64_t begin, int64_t end, int) {
        thread_local std::vector<const float*> qp, kp, vp;
        thread_local std::vector<float*> op;
        thread_local std::vector<int32_t> nv;
        for (int64_t job = begin; job < end; ++job) {
            const auto [t0, t1] = runs[size_t(job / s.n_head_kv)];
            const int64_t g = job % s.n_head_kv;
            qp.clear(), op.clear(), nv.clear();
            int64_t n_pos = 0;
            for (int64_t t = t0; t < t1; ++t) {
                for (int64_t h = g * group; h < (g + 1) * group; ++h) {
                    qp.push_back(q + t * q_stride + h * s.dk);
                    op.push_back(out + t * out_stride + h * s.dv);
                    nv.push_back(n_visible[t]);
                }
                n_pos = std::max<int64_t>(n_pos, n_visible[t]);
            }
            const int32_t* table = block_tables[t0];
            kp.resize(size_t(n_pos)), vp.resize(size_t(n_pos));
            for (int64_t p = 0; p < n_pos; ++p) {
                const int64_t slot = int64_t(table[p / bs]) * bs + p % bs;
                kp[size_t(p)] = kv.k + slot * kv.k_stride + g * s.dk;
                vp[size_t(p)] = kv.v + slot * kv.v_stride + g * s.dv;
            }
            AttnJob j;
            j.n_q = int64_t(qp.size());
            j.q = qp.data();
            j.out = op.data();
            j.n_vis = nv.data();
            j.n_pos = n_pos;
            j.k = kp.data();
            j.v = vp.data();
            j.dk = s.dk;
            j.dv = s.dv;
            j.scale = s.scale;
            kernel(j);
        }
    });
}

}  // namespace pangolin
