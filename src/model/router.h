// Mixture-of-experts routers, as data: one RouterConfig per model picks the scoring and
// selection rule. route() maps one token's router logits to k (expert, weight) pairs.
//
//   softmax_topk        Qwen3-MoE, DeepSeek-V2: softmax over all experts, top-k by probability,
//                       renormalize over the k when norm_topk_prob, × routed_scale.
//   sigmoid_topk        openPangu-Ultra-MoE: sigmoid scores, top-k over all experts,
//                       renormalize, × routed_scale.
//   sigmoid_group_topk  DeepSeek-V3 noaux_tc: sigmoid scores; selection uses score + bias
//                       (e_score_correction_bias); groups ranked by the sum of their two best
//                       biased scores, the best topk_group groups kept, top-k among them; the
//                       weights are the unbiased scores, renormalized, × routed_scale.
//   moge                Pangu Pro MoE (Mixture of Grouped Experts): softmax over all experts,
//                       top-1 in each of k contiguous groups, weight × per-expert router_scale,
//                       no renormalization.
// Ties are broken toward the lower expert (or group) index, so routing is deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pangolin {

enum class RouterType { SoftmaxTopk, SigmoidTopk, SigmoidGroupTopk, Moge };

struct RouterConfig {
    RouterType type = RouterType::SoftmaxTopk;
    int64_t n_expert = 0;
    int64_t k = 0;           // experts per token (moge: one per group, so k = groups)
    int64_t n_group = 1;     // sigmoid_group_topk, moge
    int64_t topk_group = 1;  // sigmoid_group_topk: groups kept
    bool renormalize = false;
    double scale = 1.0;  // routed_scaling_factor
};

RouterType router_type_from_name(const std::string& name);  // throws on unknown names
const char* router_type_name(RouterType type);

// Throws Error when the configuration cannot be honoured (k larger than the experts,
// groups that do not divide the experts, topk_group larger than the groups, ...).
void validate_router(const RouterConfig& config);

// logits: [n_expert]. bias: [n_expert] or null (sigmoid_group_topk selection bias).
// expert_scale: [n_expert] or null (moge router_scale). Writes ids[k] and weights[k],
// ordered by selection rank (best first).
void route(const RouterConfig& config, const float* logits, const float* bias,
           const float* expert_scale, int32_t* ids, float* weights);

}  // namespace pangolin
