// Building blocks shared by architectures: GQA self-attention with RoPE over the paged KV
// cache, and the SwiGLU feed-forward network. Options are data (biases, q/k norms), so
// architectures differ by configuration rather than by copies of the forward code.
#pragma once

#include <vector>

#include "model/decoder.h"

namespace pangolin {

struct AttentionOptions {
    bool qkv_bias = false;  // Qwen2, openPangu-Embedded
    bool o_bias = false;    // openPangu-Embedded
    bool qk_norm = false;   // Qwen3: RMSNorm over each head of q and k before RoPE
};

// With tensor parallelism each rank holds n_head / ranks query heads and n_kv / ranks KV
// heads (q/k/v row shards, o column shard) and sums its partial output with the others.
struct AttentionWeights {
    int64_t n_head = 0, n_head_kv = 0;  // heads held by this rank
    bool sharded = false;               // tensor-parallel: all-reduce the output
    Weight q, k, v, o;  // q: [n_head*dk, n_embd], k: [n_kv*dk, n_embd], v: [n_kv*dv, n_embd], o:
                        // [n_embd, n_head*dv]
    std::vector<float> q_bias, k_bias, v_bias, o_bias;  // empty when absent
    std::vector<float> q_norm, k_norm;                  // [dk] each, empty when absent
};

AttentionWeights load_attention(const TensorLoader& loader, int64_t layer, const ModelConfig& c,
                                const AttentionOptions& options);

// out[t] = Wo · attention(RoPE(Wq h[t]), cache K/V), after writing RoPE(Wk h[t]) and Wv h[t]
// to token t's cache slot. h, out: [n_tokens, n_embd].
void self_attention(const AttentionWeights& w, const ModelConfig& c, const RopeTable& rope,
                    int64_t layer, ForwardContext& ctx, const float* h, float* out);

struct FfnWeights {
    Weight gate, up;       // [n_ff, n_embd]   (tensor-parallel: this rank's rows)
    Weight down;           // [n_embd, n_ff]   (tensor-parallel: this rank's columns)
    bool sharded = false;  // tensor-parallel: all-reduce the output
};

// `shard_if_tp`: split the FFN's columns over the ranks under tensor parallelism (shared
// experts of MoE layers stay replicated).
FfnWeights load_ffn(const TensorLoader& loader, const std::string& prefix, int64_t n_embd,
                    int64_t n_ff, bool shard_if_tp = true);

// out = down(silu(gate h) * up h) for n_tokens rows of h ([n_tokens, n_embd]).
void swiglu_ffn(const FfnWeights& w, ForwardContext& ctx, const float* h, int64_t n_tokens,
                float* out);

}  // namespace pangolin
