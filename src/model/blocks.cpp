#include "model/blocks.h"

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace pangolin {

AttentionWeights load_attention(const TensorLoader& loader, int64_t layer, const ModelConfig& c,
                                const AttentionOptions& options) {
    const std::string p = "blk." + std::to_string(layer) + ".";
    const int64_t q_out = c.n_head * c.head_dim, k_out = c.n_head_kv * c.head_dim;
    const int64_t v_out = c.n_head_kv * c.head_dim_v, o_in = c.n_head * c.head_dim_v;
    AttentionWeights w;
    w.n_head = c.n_head;
    w.n_head_kv = c.n_head_kv;
    const Sharding& sh = loader.sharding();
    if (!sh.tensor()) {
        w.q = loader.matrix(p + "attn_q.weight", q_out, c.n_embd);
        w.k = loader.matrix(p + "attn_k.weight", k_out, c.n_embd);
        w.v = loader.matrix(p + "attn_v.weight", v_out, c.n_embd);
        w.o = loader.matrix(p + "attn_output.weight", c.n_embd, o_in);
    } else {
        // This rank's heads: rows of q/k/v, the matching columns of o.
        require(c.n_head % sh.size == 0 && c.n_head_kv % sh.size == 0, loader.source().path(), ": ",
                sh.size, " ranks cannot split ", c.n_head, " attention heads and ", c.n_head_kv,
                " key/value heads evenly (tensor parallelism needs both to be multiples of the "
                "rank count)");
        w.sharded = true;
        w.n_head = c.n_head / sh.size;
        w.n_head_kv = c.n_head_kv / sh.size;
        const int64_t h0 = sh.rank * w.n_head, g0 = sh.rank * w.n_head_kv;
        auto shard = [&](const std::string& name, int64_t rows, int64_t cols) {
            return loader.tensor(name, {rows, cols});
        };
        w.q = loader.wrap(shard(p + "attn_q.weight", q_out, c.n_embd)
                              .row_range(h0 * c.head_dim, w.n_head * c.head_dim));
        w.k = loader.wrap(shard(p + "attn_k.weight", k_out, c.n_embd)
                              .row_range(g0 * c.head_dim, w.n_head_kv * c.head_dim));
        w.v = loader.wrap(shard(p + "attn_v.weight", v_out, c.n_embd)
                              .row_range(g0 * c.head_dim_v, w.n_head_kv * c.head_dim_v));
        w.o = loader.wrap(shard(p + "attn_output.weight", c.n_embd, o_in)
                              .column_range(h0 * c.head_dim_v, w.n_head * c.head_dim_v));
    }
    if (options.qkv_bias) {
        w.q_bias = loader.vector(p + "attn_q.bias", q_out);
        w.k_bias = loader.vector(p + "attn_k.bias", k_out);
        w.v_bias = loader.vector(p + "attn_v.bias", v_out);
        if (w.sharded) {
            auto cut = [](std::vector<float>& b, int64_t from, int64_t n) {
                b = std::vector<float>(b.begin() + from, b.begin() + from + n);
            };
            cut(w.q_bias, sh.rank * w.n_head * c.head_dim, w.n_head * c.head_dim);
            cut(w.k_bias, sh.rank * w.n_head_kv * c.head_dim, w.n_head_kv * c.head_dim);
            cut(w.v_bias, sh.rank * w.n_head_kv * c.head_dim_v, w.n_head_kv * c.head_dim_v);
        }
    }
    if (options.o_bias) w.o_bias = loader.vector(p + "attn_output.bias", c.n_embd);
    if (options.qk_norm) {
        w.q_norm = loader.vector(p + "attn_q_norm.weight", c.head_dim);
        w.k_norm = loader.vector(p + "attn_k_norm.weight", c.head_dim);
    }
    return w;
}

void self_attention(const AttentionWeights& w, const ModelConfig& c, const RopeTable& rope,
                    int64_t layer, ForwardContext& ctx, const float* h, float* out) {
    const int64_t n = ctx.n_tokens, dk = c.head_dim, dv = c.head_dim_v;
    const int64_t n_head = w.n_head, n_kv = w.n_head_kv;
    const int64_t q_w = n_head * dk, k_w = n_kv * dk, v_w = n_kv * dv;
    ThreadPool& pool = *ctx.pool;

    float* q = ctx.scratch(n * q_w);  // [n, n_head, dk]
    float* k = ctx.scratch(n * k_w);  // [n, n_kv, dk]
    float* v = ctx.scratch(n * v_w);  // [n, n_kv, dv]
    const MatmulOut qkv[] = {{&w.q, q, q_w}, {&w.k, k, k_w}, {&w.v, v, v_w}};
    matmul_fused(qkv, 3, h, c.n_embd, n, pool);
    if (!w.q_bias.empty()) {
        add_bias(q, q_w, w.q_bias.data(), q_w, n);
        add_bias(k, k_w, w.k_bias.data(), k_w, n);
        add_bias(v, v_w, w.v_bias.data(), v_w, n);
    }
    if (!w.q_norm.empty()) {
        rms_norm(q, dk, w.q_norm.data(), dk, n * n_head, c.norm_eps, q, dk, &pool);
        rms_norm(k, dk, w.k_norm.data(), dk, n * n_kv, c.norm_eps, k, dk, &pool);
    }
    apply_rope(rope, q, n, q_w, n_head, dk, ctx.pos, &pool);
    apply_rope(rope, k, n, k_w, n_kv, dk, ctx.pos, &pool);

    KvCache& cache = *ctx.cache;
    for (int64_t t = 0; t < n; ++t) {
        std::memcpy(cache.k(layer, ctx.slots[size_t(t)]), k + t * k_w, size_t(k_w) * 4);
        std::memcpy(cache.v(layer, ctx.slots[size_t(t)]), v + t * v_w, size_t(v_w) * 4);
    }

    float* att = ctx.scratch(n * n_head * dv);  // [n, n_head, dv]
    const AttentionShape shape{n_head, n_kv, dk, dv, float(1.0 / std::sqrt(double(dk)))};
    attention(shape, q, q_w, att, n_head * dv, n, cache.view(layer), ctx.block_tables.data(),
              ctx.n_visible.data(), pool);

    matmul(w.o, att, n_head * dv, n, out, c.n_embd, pool);
    if (w.sharded)
        ctx.comm->allreduce_sum(out, size_t(n * c.n_embd));  // the one all-reduce of this block
    if (!w.o_bias.empty()) add_bias(out, c.n_embd, w.o_bias.data(), c.n_embd, n);
}

FfnWeights load_ffn(const TensorLoader& loader, const std::string& prefix, int64_t n_embd,
                    int64_t n_ff, bool shard_if_tp) {
    FfnWeights w;
    const Sharding& sh = loader.sharding();
    if (!(shard_if_tp && sh.tensor())) {
        w.gate = loader.matrix(prefix + "ffn_gate.weight", n_ff, n_embd);
        w.up = loader.matrix(prefix + "ffn_up.weight", n_ff, n_embd);
        w.down = loader.matrix(prefix + "ffn_down.weight", n_embd, n_ff);
        return w;
    }
    require(n_ff % sh.size == 0, loader.source().path(), ": the MLP width ", n_ff,
            " cannot be split over ", sh.size, " ranks (tensor parallelism needs a multiple)");
    const int64_t part = n_ff / sh.size, f0 = sh.rank * part;
    w.sharded = true;
    w.gate =
        loader.wrap(loader.tensor(prefix + "ffn_gate.weight", {n_ff, n_embd}).row_range(f0, part));
    w.up = loader.wrap(loader.tensor(prefix + "ffn_up.weight", {n_ff, n_embd}).row_range(f0, part));
    w.down = loader.wrap(
        loader.tensor(prefix + "ffn_down.weight", {n_embd, n_ff}).column_range(f0, part));
    return w;
}

void swiglu_ffn(const FfnWeights& w, ForwardContext& ctx, const float* h, int64_t n_tokens,
                float* out) {
    const int64_t n_ff = w.gate.rows(), n_embd = w.gate.cols();
    float* gate = ctx.scratch(n_tokens * n_ff);
    float* up = ctx.scratch(n_tokens * n_ff);
    const MatmulOut gate_up[] = {{&w.gate, gate, n_ff}, {&w.up, up, n_ff}};
    matmul_fused(gate_up, 2, h, n_embd, n_tokens, *ctx.pool);
    silu_mul(gate, n_ff, up, n_ff, n_ff, n_tokens, gate, n_ff, ctx.pool);
    matmul(w.down, gate, n_ff, n_tokens, out, n_embd, *ctx.pool);
    if (w.sharded)
        ctx.comm->allreduce_sum(out,
                                size_t(n_tokens * n_embd));  // the one all-reduce of this block
}

}  // namespace pangolin
