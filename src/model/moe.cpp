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

MoeWeights load_moe(const TensorLoader& loader, int64_t layer, const ModelConfig& c, const RouterConfig& router,
                    const MoeNames& names, const std::function<bool(int64_t)>& wanted) {
    const std::string p = "blk." + std::to_string(layer) + ".";
    const std::string hp = "model.layers." + std::to_string(layer) + ".";
    const bool gguf = loader.source().is_gguf();
    MoeWeights w;
    w.router = router;
    w.n_ff = c.n_ff_expert;
    const int64_t ne = c.n_expert, ff = c.n_ff_expert, d = c.n_embd;
    require(ff > 0, loader.source().path(), ": missing the expert width (moe_intermediate_size / expert_feed_forward_length)");
    if (gguf) {
        w.gate_inp = loader.matrix(p + "ffn_gate_inp.weight", ne, d);
        if (loader.has(p + "exp_probs_b.bias")) w.selection_bias = loader.vector(p + "exp_probs_b.bias", ne);
        // Pangu Pro MoE's per-expert output scale (as `pangolin synth` writes it)
        if (loader.has(p + "ffn_router_scale.weight")) w.expert_scale = loader.vector(p + "ffn_router_scale.weight", ne);
    } else {
        const TensorView* g = loader.find_stored(hp + names.hf_router, {ne, d});
        require(g != nullptr, loader.source().path(), ": tensor '", hp + names.hf_router, "' is missing");
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
    require(c.n_shared_expert == 0 || w.shared.has_value(), loader.source().path(), ": layer ", layer,
            " should have ", c.n_shared_expert, " shared expert(s) but none is stored");
    return w;
}

void moe_ffn(const MoeWeights& w, ForwardContext& ctx, const float* h, int64_t n, float* out) {
    const RouterConfig& rc = w.router;
    const int64_t d = w.gate_inp.cols(), k = rc.k, ne = rc.n_expert;
    ThreadPool& pool = *ctx.pool;

    // router logits [n, n_expert] → (expert, weight) × k per token
    float* logits = ctx.scratch(n * ne);
    matmul(w.gate_inp, h, d, n, logits, ne, pool);
    std::vector<int32_t> ids(static_cast<size_t>(n * k));
    std::vector<float> weights(static_cast<size_t>(n * k));
    for (int64_t t = 0; t < n; ++t)
        route(rc, logits + t * ne, w.selection_bias.empty() ? nullptr : w.selection_bias.data(),
              w.expert_scale.empty() ? nullptr : w.expert_scale.data(), ids.data() + t * k, weights.data() + t * k);

    // tokens per expert, in token order; slot = t * k + j
    std::vector<std::vector<int64_t>> routed(static_cast<size_t>(ne));
    for (int64_t s = 0; s < n * k; ++s) routed[size_t(ids[size_t(s)])].push_back(s);

    // each expert runs once over its tokens; results land in per-slot rows. All gate/up
    // products (routed and shared experts) run in one parallel pass, all down products in
    // another: a decode step costs two dispatches, not two per expert.
    float* expert_out = ctx.scratch(n * k * d);  // [n, k, d]
    const int64_t ff = w.n_ff;
    struct Run {
        int64_t e, m;
        const float* xin;
        float *gate, *up, *y;
    };
    std::vector<Run> runs;
    for (int64_t e = 0; e < ne; ++e) {
        const auto& slots = routed[size_t(e)];
        if (slots.empty()) continue;
        require(w.gate[size_t(e)].valid(), "expert ", e, " is routed to but not loaded on this process");
        Run r{e, int64_t(slots.size()), nullptr, nullptr, nullptr, nullptr};
        if (r.m == 1) {
            r.xin = h + (slots[0] / k) * d;
        } else {
            float* xin = ctx.scratch(r.m * d);
            for (int64_t i = 0; i < r.m; ++i) std::memcpy(xin + i * d, h + (slots[size_t(i)] / k) * d, size_t(d) * 4);
            r.xin = xin;
        }
        r.gate = ctx.scratch(r.m * ff);
        r.up = ctx.scratch(r.m * ff);
        r.y = ctx.scratch(r.m * d);
        runs.push_back(r);
    }
    const int64_t sff = w.shared ? w.shared->gate.rows() : 0;
    float* s_gate = w.shared ? ctx.scratch(n * sff) : nullptr;
    float* s_up = w.shared ? ctx.scratch(n * sff) : nullptr;
    float* s_out = w.shared ? ctx.scratch(n * d) : nullptr;
    std::vector<MatmulJob> jobs;
    for (const Run& r : runs) {
        jobs.push_back({&w.gate[size_t(r.e)], r.xin, d, r.m, r.gate, ff});
        jobs.push_back({&w.up[size_t(r.e)], r.xin, d, r.m, r.up, ff});
    }
    if (w.shared) {
        jobs.push_back({&w.shared->gate, h, d, n, s_gate, sff});
        jobs.push_back({&w.shared->up, h, d, n, s_up, sff});
    }
    matmul_jobs(jobs.data(), int(jobs.size()), pool);
    for (const Run& r : runs) silu_mul(r.gate, ff, r.up, ff, ff, r.m, r.gate, ff, &pool);
    if (w.shared) silu_mul(s_gate, sff, s_up, sff, sff, n, s_gate, sff, &pool);
    jobs.clear();
    for (const Run& r : runs) jobs.push_back({&w.down[size_t(r.e)], r.gate, ff, r.m, r.y, d});
    if (w.shared) jobs.push_back({&w.shared->down, s_gate, sff, n, s_out, d});
    matmul_jobs(jobs.data(), int(jobs.size()), pool);
    for (const Run& r : runs) {
        const auto& slots = routed[size_t(r.e)];
        for (int64_t i = 0; i < r.m; ++i) std::memcpy(expert_out + slots[size_t(i)] * d, r.y + i * d, size_t(d) * 4);
    }

    // weighted sum in routing order (deterministic, independent of the batch)
    for (int64_t t = 0; t < n; ++t) {
        float* o = out + t * d;
        std::fill(o, o + d, 0.0f);
        for (int64_t j = 0; j < k; ++j) {
            const float wt = weights[size_t(t * k + j)];
            const float* src = expert_out + (t * k + j) * d;
            for (int64_t i = 0; i < d; ++i) o[i] += wt * src[i];
        }
    }
    if (w.shared) add_inplace(out, s_out, n * d, &pool);
}

}  // namespace pangolin
