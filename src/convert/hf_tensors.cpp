#include "convert/hf_tensors.h"

#include <cmath>
#include <memory>
#include <numbers>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "model/weights.h"

namespace pangolin {

namespace {

void read_weight_rows(const Weight& w, int64_t r0, int64_t r1, float* out) {
    for (int64_t r = r0; r < r1; ++r) w.dequant(w, r, out + (r - r0) * w.cols());
}

class Planner {
  public:
    Planner(const ModelSource& src, const ModelConfig& c)
        : src_(src), c_(c), loader_(src, simd_level(), hf_stem_overrides(c.arch)) {}

    std::vector<TensorPlan> plans;

    bool has(const std::string& hf) const { return src_.find(hf) != nullptr; }
    std::string hf_name(const std::string& gguf) const { return loader_.stored_name(gguf); }

    // A stored tensor of the given shape, with its FP8 scale; both count as converted.
    std::pair<const TensorView*, Weight> take(const std::string& hf,
                                              const std::vector<int64_t>& shape) {
        const TensorView* t = loader_.find_stored(hf, shape);
        require(t != nullptr, src_.path(), ": tensor '", hf, "' is missing; the ", c_.arch,
                " layout needs it");
        used_.insert(hf);
        if (t->type == DType::F8_E4M3) used_.insert(hf + "_scale_inv");
        return {t, loader_.wrap(*t)};
    }

    // The tensor as stored (shape may drop leading 1s: router_scale [1, E] → [E]).
    void direct(const std::string& gguf, const std::string& hf,
                const std::vector<int64_t>& src_shape, const std::vector<int64_t>& shape) {
        auto [t, w] = take(hf, src_shape);
        TensorPlan p;
        p.info = {gguf, shape, DType::F32, t->type == DType::F8_E4M3};
        p.raw = t->type == DType::F8_E4M3 ? nullptr : t;
        p.read_rows = [w = w](int64_t r0, int64_t r1, float* out) {
            read_weight_rows(w, r0, r1, out);
        };
        plans.push_back(std::move(p));
    }
    void direct(const std::string& gguf, const std::string& hf, const std::vector<int64_t>& shape) {
        direct(gguf, hf, shape, shape);
    }
    // A tensor under its standard name (TensorLoader's table), when the checkpoint has it.
    void optional(const std::string& gguf, const std::vector<int64_t>& shape) {
        if (has(hf_name(gguf))) direct(gguf, hf_name(gguf), shape);
    }

    // llama.cpp's Llama q/k permutation: within each head, rows in rotate-half order
    // (i, i + hd/2) become interleaved pairs (2i, 2i + 1): out row h·hd + 2i + j ← in row
    // h·hd + j·hd/2 + i. A bias is permuted the same way, element by element.
    void permuted(const std::string& gguf, const std::vector<int64_t>& shape, int64_t n_head) {
        auto [t, w] = take(hf_name(gguf), shape);
        const int64_t n = shape[0], hd = n / n_head;
        require(hd % 2 == 0 && hd * n_head == n, src_.path(), ": ", t->name,
                " rows cannot be split into ", n_head, " heads of even size");
        auto src_row = [hd](int64_t r) {
            return (r / hd) * hd + (r % 2) * (hd / 2) + (r % hd) / 2;
        };
        TensorPlan p;
        p.info = {gguf, shape, DType::F32, t->type == DType::F8_E4M3};
        if (shape.size() == 1) {
            p.read_rows = [w = w, n, src_row](int64_t, int64_t, float* out) {
                std::vector<float> v(static_cast<size_t>(n));
                w.dequant(w, 0, v.data());
                for (int64_t k = 0; k < n; ++k) out[k] = v[size_t(src_row(k))];
            };
        } else {
            p.read_rows = [w = w, src_row](int64_t r0, int64_t r1, float* out) {
                for (int64_t r = r0; r < r1; ++r)
                    w.dequant(w, src_row(r), out + (r - r0) * w.cols());
            };
        }
        plans.push_back(std::move(p));
    }

    // Experts stacked: [n_expert, rows, cols] from the n_expert tensors of hf_pattern ("{e}").
    void stacked(const std::string& gguf, const std::string& hf_pattern, int64_t rows,
                 int64_t cols) {
        const size_t at = hf_pattern.find("{e}");
        auto experts = std::make_shared<std::vector<Weight>>();
        bool fp8 = false;
        for (int64_t e = 0; e < c_.n_expert; ++e) {
            auto [t, w] =
                take(hf_pattern.substr(0, at) + std::to_string(e) + hf_pattern.substr(at + 3),
                     {rows, cols});
            fp8 |= t->type == DType::F8_E4M3;
            experts->push_back(w);
        }
        TensorPlan p;
        p.info = {gguf, {c_.n_expert, rows, cols}, DType::F32, fp8};
        p.read_rows = [experts, rows, cols](int64_t r0, int64_t r1, float* out) {
            for (int64_t r = r0; r < r1; ++r) {
                const Weight& w = (*experts)[size_t(r / rows)];
                w.dequant(w, r % rows, out + (r - r0) * cols);
            }
        };
        plans.push_back(std::move(p));
    }

    // DeepSeek's kv_b_proj [n_head·(nope + v), kv_lora] (per head nope rows of W_uk, then v
    // rows of W_uv) → attn_k_b [n_head, kv_lora, nope] (W_ukᵀ per head) and
    // attn_v_b [n_head, v, kv_lora] (W_uv per head), as llama.cpp's converter splits it.
    void split_kv_b(const std::string& prefix) {
        const int64_t nh = c_.n_head, nope = c_.qk_nope_head_dim, v = c_.head_dim_v,
                      kvl = c_.kv_lora_rank;
        auto [t, w] = take(hf_name(prefix + "attn_kv_b.weight"), {nh * (nope + v), kvl});
        const bool fp8 = t->type == DType::F8_E4M3;
        struct HeadCache {
            int64_t head = -1;
            std::vector<float> w_uk;  // [nope, kv_lora] of `head`
        };
        TensorPlan k;
        k.info = {prefix + "attn_k_b.weight", {nh, kvl, nope}, DType::F32, fp8};
        k.read_rows = [w = w, cache = std::make_shared<HeadCache>(), nope, v, kvl](
                          int64_t r0, int64_t r1, float* out) {
            for (int64_t r = r0; r < r1; ++r) {
                const int64_t h = r / kvl, col = r % kvl;
                if (cache->head != h) {
                    cache->w_uk.resize(static_cast<size_t>(nope * kvl));
                    read_weight_rows(w, h * (nope + v), h * (nope + v) + nope, cache->w_uk.data());
                    cache->head = h;
                }
                for (int64_t n = 0; n < nope; ++n)
                    out[(r - r0) * nope + n] = cache->w_uk[size_t(n * kvl + col)];
            }
        };
        plans.push_back(std::move(k));
        TensorPlan vb;
        vb.info = {prefix + "attn_v_b.weight", {nh, v, kvl}, DType::F32, fp8};
        vb.read_rows = [w = w, nope, v](int64_t r0, int64_t r1, float* out) {
            for (int64_t r = r0; r < r1; ++r)
                w.dequant(w, (r / v) * (nope + v) + nope + r % v, out + (r - r0) * w.cols());
        };
        plans.push_back(std::move(vb));
    }

    void computed(const std::string& gguf, std::vector<float> values) {
        TensorPlan p;
        p.info = {gguf, {int64_t(values.size())}, DType::F32, false};
        p.read_rows = [v = std::move(values)](int64_t, int64_t, float* out) {
            std::copy(v.begin(), v.end(), out);
        };
        plans.push_back(std::move(p));
    }

    // Every checkpoint tensor must have found its place (multi-token-prediction layers past
    // num_hidden_layers, which llama.cpp's converter also drops, and rotary caches aside).
    void check_all_used() const {
        std::vector<std::string> left;
        int64_t mtp = 0;
        for (const TensorView* t : src_.tensors()) {
            if (used_.count(t->name) || t->name.ends_with("rotary_emb.inv_freq")) continue;
            int layer = -1;
            if (std::sscanf(t->name.c_str(), "model.layers.%d.", &layer) == 1 &&
                layer >= c_.n_layer) {
                ++mtp;
                continue;
            }
            left.push_back(t->name);
        }
        if (mtp)
            log_info("skipping ", mtp,
                     " tensors of layers past num_hidden_layers (multi-token prediction)");
        if (left.empty()) return;
        std::string list;
        for (size_t i = 0; i < std::min<size_t>(left.size(), 5); ++i)
            list += (i ? ", " : "") + left[i];
        fail(src_.path(), ": ", left.size(), " tensor(s) have no place in the ", c_.arch,
             " GGUF layout: ", list, left.size() > 5 ? ", ..." : "");
    }

  private:
    const ModelSource& src_;
    const ModelConfig& c_;
    TensorLoader loader_;
    std::set<std::string> used_;
};

// Llama 3.1 rope scaling as the per-pair divisors llama.cpp's converter stores in
// rope_freqs.weight: 1 for short wavelengths, `factor` for long ones, smooth between.
std::vector<float> llama3_rope_factors(const RopeConfig& r) {
    std::vector<float> out;
    const double orig = double(r.original_context);
    const double low_wavelen = orig / r.low_freq_factor, high_wavelen = orig / r.high_freq_factor;
    for (int64_t i = 0; i < r.n_dims / 2; ++i) {
        const double freq = std::pow(r.theta, -2.0 * double(i) / double(r.n_dims));
        const double wavelen = 2 * std::numbers::pi / freq;
        if (wavelen < high_wavelen) {
            out.push_back(1.0f);
        } else if (wavelen > low_wavelen) {
            out.push_back(float(r.factor));
        } else {
            const double smooth =
                (orig / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
            out.push_back(float(1.0 / ((1 - smooth) / r.factor + smooth)));
        }
    }
    return out;
}

void plan_attention(Planner& pl, const ModelConfig& c, const std::string& p) {
    const int64_t d = c.n_embd, q_out = c.n_head * c.head_dim, kv_out = c.n_head_kv * c.head_dim;
    const int64_t v_out = c.n_head_kv * c.head_dim_v, o_in = c.n_head * c.head_dim_v;
    // llama.cpp's converter permutes Llama's q/k (GGUF rotates interleaved pairs)
    if (c.arch == "llama") {
        pl.permuted(p + "attn_q.weight", {q_out, d}, c.n_head);
        pl.permuted(p + "attn_k.weight", {kv_out, d}, c.n_head_kv);
    } else {
        pl.direct(p + "attn_q.weight", pl.hf_name(p + "attn_q.weight"), {q_out, d});
        pl.direct(p + "attn_k.weight", pl.hf_name(p + "attn_k.weight"), {kv_out, d});
    }
    pl.direct(p + "attn_v.weight", pl.hf_name(p + "attn_v.weight"), {v_out, d});
    pl.direct(p + "attn_output.weight", pl.hf_name(p + "attn_output.weight"), {d, o_in});
    if (c.arch == "llama" && pl.has(pl.hf_name(p + "attn_q.bias"))) {
        pl.permuted(p + "attn_q.bias", {q_out}, c.n_head);
        pl.permuted(p + "attn_k.bias", {kv_out}, c.n_head_kv);
    } else {
        pl.optional(p + "attn_q.bias", {q_out});
        pl.optional(p + "attn_k.bias", {kv_out});
    }
    pl.optional(p + "attn_v.bias", {v_out});
    pl.optional(p + "attn_output.bias", {d});
    pl.optional(p + "attn_q_norm.weight", {c.head_dim});
    pl.optional(p + "attn_k_norm.weight", {c.head_dim});
}

void plan_mla(Planner& pl, const ModelConfig& c, const std::string& p) {
    const int64_t d = c.n_embd, nh = c.n_head, qk = c.qk_nope_head_dim + c.qk_rope_head_dim;
    auto direct = [&](const std::string& stem, const std::vector<int64_t>& shape) {
        pl.direct(p + stem, pl.hf_name(p + stem), shape);
    };
    if (c.q_lora_rank > 0) {
        direct("attn_q_a.weight", {c.q_lora_rank, d});
        direct("attn_q_a_norm.weight", {c.q_lora_rank});
        direct("attn_q_b.weight", {nh * qk, c.q_lora_rank});
    } else {
        direct("attn_q.weight", {nh * qk, d});
    }
    direct("attn_kv_a_mqa.weight", {c.kv_lora_rank + c.qk_rope_head_dim, d});
    direct("attn_kv_a_norm.weight", {c.kv_lora_rank});
    pl.split_kv_b(p);
    direct("attn_output.weight", {d, nh * c.head_dim_v});
}

void plan_moe(Planner& pl, const ModelConfig& c, int64_t layer, const std::string& p) {
    const int64_t d = c.n_embd, ne = c.n_expert, ff = c.n_ff_expert;
    const std::string h = "model.layers." + std::to_string(layer) + ".mlp.";
    pl.direct(p + "ffn_gate_inp.weight", h + "gate.weight", {ne, d});
    if (pl.has(h + "gate.e_score_correction_bias"))
        pl.direct(p + "exp_probs_b.bias", h + "gate.e_score_correction_bias", {ne});
    // Pangu Pro MoE's per-expert output scale, stored [1, n_expert]
    if (pl.has(h + "router_scale"))
        pl.direct(p + "ffn_gate_inp_scale.weight", h + "router_scale", {1, ne}, {ne});
    pl.stacked(p + "ffn_gate_exps.weight", h + "experts.{e}.gate_proj.weight", ff, d);
    pl.stacked(p + "ffn_up_exps.weight", h + "experts.{e}.up_proj.weight", ff, d);
    pl.stacked(p + "ffn_down_exps.weight", h + "experts.{e}.down_proj.weight", d, ff);
    // shared experts, fused: DeepSeek's mlp.shared_experts, Qwen/Pangu's mlp.shared_expert
    const std::string sh = pl.has(h + "shared_experts.gate_proj.weight") ? h + "shared_experts."
                                                                         : h + "shared_expert.";
    if (pl.has(sh + "gate_proj.weight")) {
        const int64_t ffs = c.n_ff_shared > 0 ? c.n_ff_shared : c.n_shared_expert * ff;
        pl.direct(p + "ffn_gate_shexp.weight", sh + "gate_proj.weight", {ffs, d});
        pl.direct(p + "ffn_up_shexp.weight", sh + "up_proj.weight", {ffs, d});
        pl.direct(p + "ffn_down_shexp.weight", sh + "down_proj.weight", {d, ffs});
    }
}

}  // namespace

std::vector<TensorPlan> plan_hf_tensors(const ModelSource& source, const ModelConfig& c) {
    require(!source.is_gguf(), source.path(), ": not a Hugging Face folder");
    Planner pl(source, c);
    const int64_t d = c.n_embd;
    pl.direct("token_embd.weight", "model.embed_tokens.weight", {c.n_vocab, d});
    pl.direct("output_norm.weight", "model.norm.weight", {d});
    if (pl.has("lm_head.weight")) {
        if (c.tie_embeddings)
            pl.take("lm_head.weight", {c.n_vocab, d});  // a saved copy of the tied head
        else
            pl.direct("output.weight", "lm_head.weight", {c.n_vocab, d});
    }
    if (c.rope.scaling == RopeScaling::Llama3)
        pl.computed("rope_freqs.weight", llama3_rope_factors(c.rope));

    const bool ultra = c.arch == "pangu-ultra-moe";
    for (int64_t i = 0; i < c.n_layer; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        auto norm = [&](const std::string& stem) {
            pl.direct(p + stem, pl.hf_name(p + stem), {d});
        };
        norm("attn_norm.weight");
        if (ultra) norm("post_attention_norm.weight");
        norm("ffn_norm.weight");
        if (ultra) norm("post_ffw_norm.weight");
        if (c.is_mla())
            plan_mla(pl, c, p);
        else
            plan_attention(pl, c, p);
        if (c.is_moe() && i >= c.n_dense_lead) {
            plan_moe(pl, c, i, p);
        } else {
            for (const auto& [stem, shape] :
                 {std::pair<std::string, std::vector<int64_t>>{"ffn_gate.weight", {c.n_ff, d}},
                  {"ffn_up.weight", {c.n_ff, d}},
                  {"ffn_down.weight", {d, c.n_ff}}})
                pl.direct(p + stem, pl.hf_name(p + stem), shape);
        }
    }
    pl.check_all_used();
    return std::move(pl.plans);
}

}  // namespace pangolin
