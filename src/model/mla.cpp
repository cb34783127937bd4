#include "model/mla.h"

#include <cmath>
#include <cstring>
#include <map>

#include "core/error.h"

namespace pangolin {

MlaWeights load_mla(const TensorLoader& loader, int64_t layer, const ModelConfig& c) {
    const std::string p = "blk." + std::to_string(layer) + ".";
    const int64_t nh = c.n_head, nope = c.qk_nope_head_dim, rope = c.qk_rope_head_dim,
                  v = c.head_dim_v;
    const int64_t kvl = c.kv_lora_rank, d = c.n_embd;
    MlaWeights w;
    if (c.q_lora_rank > 0) {
        w.q_a = loader.matrix(p + "attn_q_a.weight", c.q_lora_rank, d);
        w.q_a_norm = loader.vector(p + "attn_q_a_norm.weight", c.q_lora_rank);
        w.q_b = loader.matrix(p + "attn_q_b.weight", nh * (nope + rope), c.q_lora_rank);
    } else {
        w.q = loader.matrix(p + "attn_q.weight", nh * (nope + rope), d);
    }
    w.kv_a = loader.matrix(p + "attn_kv_a_mqa.weight", kvl + rope, d);
    w.kv_a_norm = loader.vector(p + "attn_kv_a_norm.weight", kvl);
    if (loader.has(p + "attn_kv_b.weight")) {
        w.fused_kv_b = true;
        w.kv_b = loader.matrix(p + "attn_kv_b.weight", nh * (nope + v), kvl);
    } else {
        // GGUF stores the split per-head matrices as 3-D tensors [n_head, ·, ·].
        const TensorView kb = loader.tensor(p + "attn_k_b.weight", {nh, kvl, nope});
        const TensorView vb = loader.tensor(p + "attn_v_b.weight", {nh, v, kvl});
        TensorView kb2 = kb, vb2 = vb;
        kb2.shape = {nh * kvl, nope};
        vb2.shape = {nh * v, kvl};
        w.k_b = loader.wrap(kb2);
        w.v_b = loader.wrap(vb2);
    }
    w.o = loader.matrix(p + "attn_output.weight", d, nh * v);
    return w;
}

float mla_softmax_scale(const ModelConfig& c) {
    double scale = 1.0 / std::sqrt(double(c.qk_nope_head_dim + c.qk_rope_head_dim));
    const auto& r = c.rope;
    if (r.scaling == RopeScaling::Yarn && r.factor > 1.0 && r.yarn_mscale_all_dim > 0) {
        const double m = 0.1 * r.yarn_mscale_all_dim * std::log(r.factor) + 1.0;
        scale *= m * m;
    }
    return float(scale);
}

namespace {

// q̃ = W_uk_hᵀ q_nope (absorb) and k_nope = W_uk_h c (expand), whichever way W_uk is stored.
void absorb_q(const MlaWeights& w, const ModelConfig& c, int64_t h, const float* q_nope,
              float* out) {
    const int64_t nope = c.qk_nope_head_dim, v = c.head_dim_v, kvl = c.kv_lora_rank;
    if (w.fused_kv_b)
        matvec_rows_t(w.kv_b, h * (nope + v), nope, q_nope, out);
    else
        matvec_rows(w.k_b, h * kvl, kvl, q_nope, out);
}
void expand_k(const MlaWeights& w, const ModelConfig& c, int64_t h, const float* latent,
              float* out) {
    const int64_t nope = c.qk_nope_head_dim, v = c.head_dim_v, kvl = c.kv_lora_rank;
    if (w.fused_kv_b)
        matvec_rows(w.kv_b, h * (nope + v), nope, latent, out);
    else
        matvec_rows_t(w.k_b, h * kvl, kvl, latent, out);
}
void project_v(const MlaWeights& w, const ModelConfig& c, int64_t h, const float* latent,
               float* out) {
    const int64_t nope = c.qk_nope_head_dim, v = c.head_dim_v;
    if (w.fused_kv_b)
        matvec_rows(w.kv_b, h * (nope + v) + nope, v, latent, out);
    else
        matvec_rows(w.v_b, h * v, v, latent, out);
}

}  // namespace

void mla_attention(const MlaWeights& w, const ModelConfig& c, const RopeTable& rope_table,
                   float scale, MlaMode mode, int64_t layer, ForwardContext& ctx, const float* h,
                   float* out) {
    const int64_t n = ctx.n_tokens, nh = c.n_head, d = c.n_embd;
    const int64_t nope = c.qk_nope_head_dim, rope = c.qk_rope_head_dim, v = c.head_dim_v,
                  kvl = c.kv_lora_rank;
    const int64_t qw = nh * (nope + rope), lat = kvl + rope;
    ThreadPool& pool = *ctx.pool;

    // q: [n, n_head, nope + rope]
    float* q = ctx.scratch(n * qw);
    if (w.q_a.valid()) {
        float* qa = ctx.scratch(n * c.q_lora_rank);
        matmul(w.q_a, h, d, n, qa, c.q_lora_rank, pool);
        rms_norm(qa, c.q_lora_rank, w.q_a_norm.data(), c.q_lora_rank, n, c.norm_eps, qa,
                 c.q_lora_rank);
        matmul(w.q_b, qa, c.q_lora_rank, n, q, qw, pool);
    } else {
        matmul(w.q, h, d, n, q, qw, pool);
    }
    // latent row per token: [c (kv_lora) ; k_pe (rope)]
    float* kv = ctx.scratch(n * lat);
    matmul(w.kv_a, h, d, n, kv, lat, pool);
    rms_norm(kv, lat, w.kv_a_norm.data(), kvl, n, c.norm_eps, kv, lat);
    apply_rope(rope_table, kv + kvl, n, lat, 1, rope, ctx.pos);
    apply_rope(rope_table, q + nope, n, qw, nh, nope + rope, ctx.pos);

    KvCache& cache = *ctx.cache;
    for (int64_t t = 0; t < n; ++t)
        std::memcpy(cache.k(layer, ctx.slots[size_t(t)]), kv + t * lat, size_t(lat) * 4);

    // Each token's path depends only on its own role (prompt or decode), so a request's
    // results never depend on how the batch around it is composed.
    std::vector<int64_t> absorbed, expanded;
    for (int64_t t = 0; t < n; ++t) {
        const bool expand = mode == MlaMode::Expanded || (mode == MlaMode::Auto && ctx.prompt[t]);
        (expand ? expanded : absorbed).push_back(t);
    }
    float* att = ctx.scratch(n * nh * v);  // [n, n_head, v]

    if (!absorbed.empty()) {
        // absorbed: q̃ [m, n_head, kv_lora + rope] attends over the latent cache (one shared head)
        const int64_t m = int64_t(absorbed.size());
        float* qt = ctx.scratch(m * nh * lat);
        std::vector<const int32_t*> tables(static_cast<size_t>(m));
        std::vector<int32_t> visible(static_cast<size_t>(m));
        for (int64_t i = 0; i < m; ++i) {
            tables[size_t(i)] = ctx.block_tables[size_t(absorbed[size_t(i)])];
            visible[size_t(i)] = ctx.n_visible[size_t(absorbed[size_t(i)])];
        }
        pool.parallel_for(m * nh, [&](int64_t b, int64_t e, int) {
            for (int64_t job = b; job < e; ++job) {
                const int64_t t = absorbed[size_t(job / nh)], hd = job % nh;
                const float* qh = q + t * qw + hd * (nope + rope);
                float* dst = qt + job * lat;
                absorb_q(w, c, hd, qh, dst);
                std::memcpy(dst + kvl, qh + nope, size_t(rope) * 4);
            }
        });
        float* att_lat = ctx.scratch(m * nh * kvl);
        const AttentionShape shape{nh, 1, lat, kvl, scale};
        attention(shape, qt, nh * lat, att_lat, nh * kvl, m, cache.view(layer), tables.data(),
                  visible.data(), pool);
        pool.parallel_for(m * nh, [&](int64_t b, int64_t e, int) {
            for (int64_t job = b; job < e; ++job) {
                const int64_t t = absorbed[size_t(job / nh)], hd = job % nh;
                project_v(w, c, hd, att_lat + job * kvl, att + (t * nh + hd) * v);
            }
        });
    }

    // expanded, one sequence at a time: per-head keys [P, n_head, nope + rope] and values
    // [P, n_head, v] for the sequence's cached positions, then ordinary multi-head attention.
    std::vector<uint8_t> done(static_cast<size_t>(n), 0);
    const int64_t bs = cache.shape().block_size;
    for (int64_t first : expanded) {
        if (done[size_t(first)]) continue;
        const int32_t* table = ctx.block_tables[size_t(first)];
        std::vector<int64_t> group;
        int64_t n_pos = 0;
        for (int64_t t : expanded)
            if (!done[size_t(t)] && ctx.block_tables[size_t(t)] == table) {
                group.push_back(t);
                done[size_t(t)] = 1;
                n_pos = std::max<int64_t>(n_pos, ctx.n_visible[size_t(t)]);
            }
        const int64_t m = int64_t(group.size());
        float* k_full = ctx.scratch(n_pos * nh * (nope + rope));
        float* v_full = ctx.scratch(n_pos * nh * v);
        pool.parallel_for(n_pos * nh, [&](int64_t b, int64_t e, int) {
            for (int64_t job = b; job < e; ++job) {
                const int64_t j = job / nh, hd = job % nh;
                const float* latent = cache.k(layer, int64_t(table[j / bs]) * bs + j % bs);
                float* kd = k_full + job * (nope + rope);
                expand_k(w, c, hd, latent, kd);
                std::memcpy(kd + nope, latent + kvl, size_t(rope) * 4);
                project_v(w, c, hd, latent, v_full + job * v);
            }
        });
        float* qg = ctx.scratch(m * qw);
        float* og = ctx.scratch(m * nh * v);
        std::vector<int32_t> visible(static_cast<size_t>(m));
        for (int64_t i = 0; i < m; ++i) {
            std::memcpy(qg + i * qw, q + group[size_t(i)] * qw, size_t(qw) * 4);
            visible[size_t(i)] = ctx.n_visible[size_t(group[size_t(i)])];
        }
        const PagedKvView view{k_full, v_full, nh * (nope + rope), nh * v, n_pos};
        const int32_t one_block = 0;
        std::vector<const int32_t*> tables(static_cast<size_t>(m), &one_block);
        const AttentionShape shape{nh, nh, nope + rope, v, scale};
        attention(shape, qg, qw, og, nh * v, m, view, tables.data(), visible.data(), pool);
        for (int64_t i = 0; i < m; ++i)
            std::memcpy(att + group[size_t(i)] * nh * v, og + i * nh * v, size_t(nh * v) * 4);
    }
    matmul(w.o, att, nh * v, n, out, d, pool);
}

}  // namespace pangolin
