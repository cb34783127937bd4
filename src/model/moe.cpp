#include "model/moe.h"

#include <cstring>

#include "core/error.h"
#include "core/quant_ref.h"

namespace pangolin {

RouterConfig router_config(const ModelConfig& c) {
    RouterConfig r;
    r.type = router_type_from_name(c.router);
    r.n_expert = c.n_expert;
    r.k = c.n_expert_used;
    r.n_group = std::max<int64_t>(1, c.n_expert_group);
    r.topk_group = std::max<int64_t>(1, c.n_group_used);
    r.renormalize = c.norm_topk_prob;
    r.scale = c.routed_scale;
    if (r.type == RouterType::Moge) {
        r.n_group = c.n_expert_group > 0 ? c.n_expert_group : c.n_expert_used;
        r.renormalize = false;
    }
    validate_router(r);
    return r;
}

MoeWeights load_moe(const TensorLoader& loader, int64_t layer, const ModelConfig& c,
                    const RouterConfig& router, const MoeNames& names) {
    const std::string p = "blk." + std::to_string(layer) + ".";
    const std::string hp = "model.layers." + std::to_string(layer) + ".";
    const bool gguf = loader.source().is_gguf();
    MoeWeights w;
    w.router = router;
    w.n_ff = c.n_ff_expert;
    const int64_t ne = c.n_expert, ff = c.n_ff_expert, d = c.n_embd;
    require(ff > 0, loader.source().path(),
            ": missing the expert width (moe_intermediate_size / expert_feed_forward_length)");
    w.expert_begin = 0;
    w.expert_end = ne;
    const Sharding& sh = loader.sharding();
    if (sh.expert()) {
        require(ne % sh.size == 0, loader.source().path(), ": ", ne,
                " experts cannot be split evenly over ", sh.size,
                " ranks (expert parallelism needs the rank count to divide the expert count)");
        if (router.type == RouterType::Moge)
            require(router.n_group % sh.size == 0, loader.source().path(), ": ", router.n_group,
                    " expert groups cannot be split over ", sh.size,
                    " ranks (MoGE places whole groups on each rank)");
        w.expert_parallel = true;
        w.expert_begin = sh.rank * (ne / sh.size);
        w.expert_end = w.expert_begin + ne / sh.size;
    }
    const auto wanted = [&w](int64_t e) { return e >= w.expert_begin && e < w.expert_end; };
    if (gguf) {
        w.gate_inp = loader.matrix(p + "ffn_gate_inp.weight", ne, d);
        if (loader.has(p + "exp_probs_b.bias"))
            w.selection_bias = loader.vector(p + "exp_probs_b.bias", ne);
        // Pangu Pro MoE's router_scale (docs/gguf-pangu-pro-moe.md)
        w.expert_scale = loader.optional_vector(p + "ffn_gate_inp_scale.weight", ne);
    } else {
        const TensorView* g = loader.find_stored(hp + names.hf_router, {ne, d});
        require(g != nullptr, loader.source().path(), ": tensor '", hp + names.hf_router,
                "' is missing");
        w.gate_inp = loader.wrap(*g);
        if (const TensorView* b = loader.find_stored(hp + names.hf_bias, {ne})) {
            w.selection_bias.resize(size_t(ne));
            dequantize_row_ref(b->type, b->data, w.selection_bias.data(), ne);
        }
        // Pangu Pro MoE: per-expert output scale, stored [1, n_expert]
        if (const TensorView* s = loader.source().find(hp + "mlp.router_scale")) {
            require(s->numel() == ne, loader.source().path(), ": tensor '", s->name, "' has shape ",
                    s->shape_str(), ", expected ", ne, " values");
            w.expert_scale.resize(size_t(ne));
            dequantize_row_ref(s->type, s->data, w.expert_scale.data(), ne);
        }
    }
    require(router.type != RouterType::Moge || !w.expert_scale.empty(), loader.source().path(),
            ": layer ", layer, " uses the moge router but has no router_scale");
    const std::string he = hp + names.hf_experts;
    w.gate = loader.experts(p + "ffn_gate_exps.weight", he + "gate_proj.weight", ne, ff, d, wanted);
    w.up = loader.experts(p + "ffn_up_exps.weight", he + "up_proj.weight", ne, ff, d, wanted);
    w.down = loader.experts(p + "ffn_down_exps.weight", he + "down_proj.weight", ne, d, ff, wanted);

    const int64_t n_ff_shared = c.n_ff_shared > 0 ? c.n_ff_shared : c.n_shared_expert * ff;
    if (gguf) {
        if (loader.has(p + "ffn_gate_shexp.weight")) {
            FfnWeights s;
            s.gate = loader.matrix(p + "ffn_gate_shexp.weight", n_ff_shared, d);
            s.up = loader.matrix(p + "ffn_up_shexp.weight", n_ff_shared, d);
            s.down = loader.matrix(p + "ffn_down_shexp.weight", d, n_ff_shared);
            w.shared = s;
        }
    } else if (loader.source().find(hp + names.hf_shared + "gate_proj.weight")) {
        auto get = [&](const std::string& n, int64_t r, int64_t cols) {
            const TensorView* t = loader.find_stored(hp + names.hf_shared + n, {r, cols});
            return loader.wrap(*t);
        };
        FfnWeights s;
        s.gate = get("gate_proj.weight", n_ff_shared, d);
        s.up = get("up_proj.weight", n_ff_shared, d);
        s.down = get("down_proj.weight", d, n_ff_shared);
        w.shared = s;
    }
    require(c.n_shared_expert == 0 || w.shared.has_value(), loader.source().path(), ": layer ",
            layer, " should have ", c.n_shared_expert, " shared expert(s) but none is stored");
    return w;
}

namespace {

// Runs every expert over the rows routed to it: rows[i] (a pointer to d floats) goes through
// expert experts[i]; its output lands at outs[i]. Each expert runs once, over all its rows.
// All gate/up products (routed experts and, when given, the shared expert over its n_shared
// rows at shared_in → shared_out) run in one parallel pass and all down products in another:
// a decode step costs two dispatches, not two per expert.
void run_experts(const MoeWeights& w, ForwardContext& ctx, const std::vector<int32_t>& experts,
                 const std::vector<const float*>& rows, const std::vector<float*>& outs, int64_t d,
                 const FfnWeights* shared = nullptr, const float* shared_in = nullptr,
                 int64_t n_shared = 0, float* shared_out = nullptr) {
    const int64_t ne = w.router.n_expert, ff = w.n_ff;
    std::vector<std::vector<size_t>> by_expert(static_cast<size_t>(ne));
    for (size_t i = 0; i < experts.size(); ++i) by_expert[size_t(experts[i])].push_back(i);
    struct Run {
        int64_t e, m;
        const float* xin;  // [m, d]
        float *gate, *up;  // [m, ff]
        float* y;          // [m, d]
    };
    std::vector<Run> runs;
    for (int64_t e = 0; e < ne; ++e) {
        const auto& idx = by_expert[size_t(e)];
        if (idx.empty()) continue;
        require(w.gate[size_t(e)].valid(), "internal: expert ", e,
                " is routed to but not held by this rank");
        Run r{e, int64_t(idx.size()), nullptr, nullptr, nullptr, nullptr};
        if (r.m == 1) {  // one row: read it in place, write the output in place
            r.xin = rows[idx[0]];
            r.y = outs[idx[0]];
        } else {
            float* xin = ctx.scratch(r.m * d);
            for (int64_t i = 0; i < r.m; ++i)
                std::memcpy(xin + i * d, rows[idx[size_t(i)]], size_t(d) * 4);
            r.xin = xin;
            r.y = ctx.scratch(r.m * d);
        }
        r.gate = ctx.scratch(r.m * ff);
        r.up = ctx.scratch(r.m * ff);
        runs.push_back(r);
    }
    const bool with_shared = shared != nullptr && n_shared > 0;
    const int64_t sff = with_shared ? shared->gate.rows() : 0;
    float* s_gate = with_shared ? ctx.scratch(n_shared * sff) : nullptr;
    float* s_up = with_shared ? ctx.scratch(n_shared * sff) : nullptr;
    if (runs.empty() && !with_shared) return;
    ThreadPool& pool = *ctx.pool;
    std::vector<MatmulJob> jobs;
    for (const Run& r : runs) {
        jobs.push_back({&w.gate[size_t(r.e)], r.xin, d, r.m, r.gate, ff});
        jobs.push_back({&w.up[size_t(r.e)], r.xin, d, r.m, r.up, ff});
    }
    if (with_shared) {
        jobs.push_back({&shared->gate, shared_in, d, n_shared, s_gate, sff});
        jobs.push_back({&shared->up, shared_in, d, n_shared, s_up, sff});
    }
    matmul_jobs(jobs.data(), int(jobs.size()), pool);
    for (const Run& r : runs) silu_mul(r.gate, ff, r.up, ff, ff, r.m, r.gate, ff, &pool);
    if (with_shared) silu_mul(s_gate, sff, s_up, sff, sff, n_shared, s_gate, sff, &pool);
    jobs.clear();
    for (const Run& r : runs) jobs.push_back({&w.down[size_t(r.e)], r.gate, ff, r.m, r.y, d});
    if (with_shared) jobs.push_back({&shared->down, s_gate, sff, n_shared, shared_out, d});
    matmul_jobs(jobs.data(), int(jobs.size()), pool);
    if (with_shared && shared->sharded) ctx.comm->allreduce_sum(shared_out, size_t(n_shared * d));
    for (const Run& r : runs) {
        if (r.m == 1) continue;
        const auto& idx = by_expert[size_t(r.e)];
        for (int64_t i = 0; i < r.m; ++i)
            std::memcpy(outs[idx[size_t(i)]], r.y + i * d, size_t(d) * 4);
    }
}

// Weighted sum of each token's k expert outputs in routing order (deterministic).
void combine(const float* expert_out, const float* weights, int64_t t0, int64_t t1, int64_t k,
             int64_t d, float* out) {
    for (int64_t t = t0; t < t1; ++t) {
        float* o = out + (t - t0) * d;
        std::fill(o, o + d, 0.0f);
        for (int64_t j = 0; j < k; ++j) {
            const float wt = weights[t * k + j];
            const float* src = expert_out + (t * k + j) * d;
            for (int64_t i = 0; i < d; ++i) o[i] += wt * src[i];
        }
    }
}

}  // namespace

void moe_ffn(const MoeWeights& w, ForwardContext& ctx, const float* h, int64_t n, float* out,
             int64_t layer) {
    const RouterConfig& rc = w.router;
    const int64_t d = w.gate_inp.cols(), k = rc.k, ne = rc.n_expert;
    ThreadPool& pool = *ctx.pool;

    // router logits [n, n_expert] → (expert, weight) × k per token (identical on every rank)
    float* logits = ctx.scratch(n * ne);
    matmul(w.gate_inp, h, d, n, logits, ne, pool);
    std::vector<int32_t> ids(static_cast<size_t>(n * k));
    std::vector<float> weights(static_cast<size_t>(n * k));
    for (int64_t t = 0; t < n; ++t)
        route(rc, logits + t * ne, w.selection_bias.empty() ? nullptr : w.selection_bias.data(),
              w.expert_scale.empty() ? nullptr : w.expert_scale.data(), ids.data() + t * k,
              weights.data() + t * k);
    if (ctx.expert_stats && layer < int64_t(ctx.expert_stats->tokens_per_expert.size()))
        for (int32_t e : ids) ++ctx.expert_stats->tokens_per_expert[size_t(layer)][size_t(e)];

    float* expert_out = ctx.scratch(n * k * d);  // [n, k, d]: output of each token's j-th expert
    if (!w.expert_parallel) {
        std::vector<const float*> rows(ids.size());
        std::vector<float*> outs(ids.size());
        for (int64_t s = 0; s < n * k; ++s) {
            rows[size_t(s)] = h + (s / k) * d;
            outs[size_t(s)] = expert_out + s * d;
        }
        float* s = w.shared ? ctx.scratch(n * d) : nullptr;
        run_experts(w, ctx, ids, rows, outs, d, w.shared ? &*w.shared : nullptr, h, n, s);
        combine(expert_out, weights.data(), 0, n, k, d, out);
        if (w.shared) add_inplace(out, s, n * d, &pool);
        return;
    }

    // Expert parallelism. Rank r owns tokens [t0, t1) and experts [expert_begin, expert_end).
    // 1. dispatch: each owned (token, expert) row travels to the expert's rank (all-to-all);
    // 2. every rank runs its experts over the rows it received;
    // 3. the outputs travel back (all-to-all) and the owner combines them with the routing
    //    weights; 4. an all-gather gives every rank the whole batch (attention is replicated).
    Communicator& comm = *ctx.comm;
    const int R = comm.size(), me = comm.rank();
    const int64_t per_rank = ne / R;
    const int64_t t0 = n * me / R, t1 = n * (me + 1) / R;
    const size_t row_bytes = 2 * sizeof(int64_t) + size_t(d) * 4;  // [slot, expert, h...]

    std::vector<std::vector<int64_t>> to_rank(static_cast<size_t>(R));  // slots, in slot order
    for (int64_t s = t0 * k; s < t1 * k; ++s)
        to_rank[size_t(ids[size_t(s)] / per_rank)].push_back(s);
    std::vector<int64_t> send_counts(static_cast<size_t>(R)), recv_counts;
    for (int r = 0; r < R; ++r) send_counts[size_t(r)] = int64_t(to_rank[size_t(r)].size());
    comm.alltoall_counts(send_counts, recv_counts);

    std::vector<size_t> sb(static_cast<size_t>(R)), so(sb.size()), rb(sb.size()), ro(sb.size());
    size_t send_total = 0, recv_total = 0;
    for (int r = 0; r < R; ++r) {
        so[size_t(r)] = send_total;
        sb[size_t(r)] = size_t(send_counts[size_t(r)]) * row_bytes;
        send_total += sb[size_t(r)];
        ro[size_t(r)] = recv_total;
        rb[size_t(r)] = size_t(recv_counts[size_t(r)]) * row_bytes;
        recv_total += rb[size_t(r)];
    }
    std::vector<uint8_t> send(send_total), recv(recv_total);
    size_t at = 0;
    for (int r = 0; r < R; ++r)
        for (int64_t s : to_rank[size_t(r)]) {
            const int64_t e = ids[size_t(s)];
            std::memcpy(send.data() + at, &s, 8);
            std::memcpy(send.data() + at + 8, &e, 8);
            std::memcpy(send.data() + at + 16, h + (s / k) * d, size_t(d) * 4);
            at += row_bytes;
        }
    comm.alltoallv(send.data(), sb, so, recv.data(), rb, ro);

    const int64_t n_recv = int64_t(recv_total / row_bytes);
    if (ctx.expert_stats && layer < int64_t(ctx.expert_stats->rows_received.size()))
        ctx.expert_stats->rows_received[size_t(layer)] += n_recv;
    std::vector<int32_t> experts(static_cast<size_t>(n_recv));
    std::vector<const float*> rows(experts.size());
    std::vector<float> results(static_cast<size_t>(n_recv * d));
    std::vector<float*> outs(experts.size());
    for (int64_t i = 0; i < n_recv; ++i) {
        int64_t e;
        std::memcpy(&e, recv.data() + size_t(i) * row_bytes + 8, 8);
        require(e >= w.expert_begin && e < w.expert_end, "internal: received a row for expert ", e,
                " which this rank does not hold");
        experts[size_t(i)] = int32_t(e);
        rows[size_t(i)] = reinterpret_cast<const float*>(recv.data() + size_t(i) * row_bytes + 16);
        outs[size_t(i)] = results.data() + i * d;
    }
    // this rank's own tokens also go through the shared expert, in the same two passes
    const int64_t n_mine = t1 - t0;
    float* shared_out = w.shared && n_mine > 0 ? ctx.scratch(n_mine * d) : nullptr;
    run_experts(w, ctx, experts, rows, outs, d, w.shared ? &*w.shared : nullptr, h + t0 * d, n_mine,
                shared_out);

    // results return in the order their rows arrived, so each sender reads them in send order
    std::vector<size_t> rsb(static_cast<size_t>(R)), rso(rsb.size()), rrb(rsb.size()),
        rro(rsb.size());
    size_t back_total = 0;
    for (int r = 0; r < R; ++r) {
        rso[size_t(r)] = size_t(ro[size_t(r)] / row_bytes) * size_t(d) * 4;
        rsb[size_t(r)] = size_t(recv_counts[size_t(r)]) * size_t(d) * 4;
        rro[size_t(r)] = back_total;
        rrb[size_t(r)] = size_t(send_counts[size_t(r)]) * size_t(d) * 4;
        back_total += rrb[size_t(r)];
    }
    std::vector<float> back(back_total / 4);
    comm.alltoallv(results.data(), rsb, rso, back.data(), rrb, rro);
    size_t row = 0;
    for (int r = 0; r < R; ++r)
        for (int64_t s : to_rank[size_t(r)])
            std::memcpy(expert_out + s * d, back.data() + (row++) * size_t(d), size_t(d) * 4);

    float* mine = ctx.scratch(std::max<int64_t>(1, t1 - t0) * d);
    combine(expert_out, weights.data(), t0, t1, k, d, mine);
    if (shared_out) add_inplace(mine, shared_out, n_mine * d, &pool);
    std::vector<size_t> gathered(static_cast<size_t>(R));
    for (int r = 0; r < R; ++r)
        gathered[size_t(r)] = size_t(n * (r + 1) / R - n * r / R) * size_t(d) * 4;
    comm.allgatherv(mine, size_t(t1 - t0) * size_t(d) * 4, out, gathered);
}

}  // namespace pangolin
