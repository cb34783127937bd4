// Mixture-of-experts feed-forward block: router → the chosen SwiGLU experts → weighted sum,
// plus optional shared experts that every token passes through.
//
// Execution scales with the routing, not the expert count: in a batch, the tokens routed
// to each expert are gathered and the expert runs once over them; a decode step reads only
// the selected experts' weights.
#pragma once

#include <optional>
#include <vector>

#include "model/blocks.h"
#include "model/router.h"

namespace pangolin {

// Under expert parallelism each rank holds the routed experts [expert_begin, expert_end)
// (the others stay empty and are never read); router and shared experts are replicated.
struct MoeWeights {
    RouterConfig router;
    int64_t expert_begin = 0, expert_end = 0;
    bool expert_parallel = false;
    int64_t n_ff = 0;                   // expert width
    Weight gate_inp;                    // router: [n_expert, n_embd]
    std::vector<float> selection_bias;  // [n_expert] (DeepSeek e_score_correction_bias) or empty
    std::vector<float> expert_scale;    // [n_expert] (Pangu Pro MoE router_scale) or empty
    std::vector<Weight> gate, up,
        down;  // per expert: [n_ff_exp, n_embd], [n_ff_exp, n_embd], [n_embd, n_ff_exp]
    std::optional<FfnWeights> shared;  // shared expert(s), fused into one SwiGLU
};

// Standard tensor names of an MoE layer, GGUF (llama.cpp) and Hugging Face spellings.
struct MoeNames {
    std::string hf_experts = "mlp.experts.{e}.";  // + gate_proj/up_proj/down_proj
    std::string hf_router = "mlp.gate.weight";
    std::string hf_bias = "mlp.gate.e_score_correction_bias";
    std::string hf_shared = "mlp.shared_experts.";  // + gate_proj/up_proj/down_proj
};

// Loads layer `layer`'s router, experts (this rank's shard under expert parallelism) and
// shared experts.
MoeWeights load_moe(const TensorLoader& loader, int64_t layer, const ModelConfig& c,
                    const RouterConfig& router, const MoeNames& names = {});

// out = Σ_k weight_k · expert_k(h) (+ shared(h)) for n_tokens rows of h: [n_tokens, n_embd].
// Under expert parallelism the routed rows travel to their experts' ranks and back
// (all-to-all dispatch and combine).
void moe_ffn(const MoeWeights& w, ForwardContext& ctx, const float* h, int64_t n_tokens, float* out,
             int64_t layer);

// The router configuration a ModelConfig describes (validated).
RouterConfig router_config(const ModelConfig& c);

}  // namespace pangolin
