// One description of a model's hyperparameters, filled from GGUF metadata or from a
// Hugging Face config.json. Architecture files validate it and fill in their defaults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pangolin {

// How RoPE pairs the dimensions of a head: `Interleaved` rotates (2i, 2i+1) (GGUF llama after
// the converter's q/k permutation, DeepSeek's rope part); `Neox` rotates (i, i + n_rot/2)
// (Hugging Face's rotate_half, GGUF qwen2/qwen3).
enum class RopeLayout { Interleaved, Neox };
enum class RopeScaling { None, Linear, Llama3, Yarn };

struct RopeConfig {
    double theta = 10000.0;
    int64_t n_dims = 0;  // rotated dimensions per head (≤ head_dim)
    RopeLayout layout = RopeLayout::Neox;
    RopeScaling scaling = RopeScaling::None;
    double factor = 1.0;           // context extension factor (linear, llama3, yarn)
    int64_t original_context = 0;  // pre-extension training context (llama3, yarn)
    double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
    double beta_fast = 32.0, beta_slow = 1.0;              // yarn ramp
    double yarn_attn_factor = 1.0;  // multiplies cos/sin (llama.cpp attn_factor)
    double yarn_mscale = 1.0, yarn_mscale_all_dim = 0.0;  // DeepSeek's softmax-scale correction
    std::vector<float> freq_factors;  // per-pair divisors (GGUF rope_freqs.weight)
};

enum class SourceKind { Gguf, HfFolder };

struct ModelConfig {
    SourceKind source = SourceKind::Gguf;
    std::string arch;     // canonical (GGUF) architecture name: "llama", "qwen2", ...
    std::string hf_arch;  // Hugging Face architectures[0] when known
    std::string name;

    int64_t n_vocab = 0;
    int64_t n_embd = 0;
    int64_t n_layer = 0;
    int64_t n_head = 0;
    int64_t n_head_kv = 0;
    int64_t head_dim = 0;    // query/key head size
    int64_t head_dim_v = 0;  // value head size
    int64_t n_ff = 0;        // dense FFN width
    int64_t n_ctx_train = 0;
    double norm_eps = 1e-5;
    bool tie_embeddings = false;
    RopeConfig rope;

    // Mixture of experts (zero when dense).
    int64_t n_expert = 0;
    int64_t n_expert_used = 0;
    int64_t n_ff_expert = 0;
    int64_t n_shared_expert = 0;
    int64_t n_ff_shared = 0;     // shared expert width when it differs from n_ff_expert
    int64_t n_dense_lead = 0;    // leading dense layers (first_k_dense_replace)
    int64_t n_expert_group = 0;  // routing groups
    int64_t n_group_used = 0;
    double routed_scale = 1.0;
    bool norm_topk_prob = false;
    std::string router;  // softmax_topk | sigmoid_topk | sigmoid_group_topk | moge

    // Multi-head latent attention (zero when absent).
    int64_t q_lora_rank = 0;
    int64_t kv_lora_rank = 0;
    int64_t qk_nope_head_dim = 0;
    int64_t qk_rope_head_dim = 0;

    int64_t bos_id = -1;
    int64_t eos_id = -1;

    bool is_moe() const { return n_expert > 0; }
    bool is_mla() const { return kv_lora_rank > 0; }
};

}  // namespace pangolin
