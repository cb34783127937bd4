// Multi-head latent attention (DeepSeek-V2/V3, openPangu-Ultra-MoE).
//
//   q      = q_b(rms_norm(q_a(h)))            [n_head, nope + rope]   (or q_proj(h) without q LoRA)
//   c, kpe = kv_a(h)                          c: [kv_lora] (then rms_norm), kpe: [rope], shared by
//   heads k_h    = [W_uk_h c ; rope(kpe)]           W_uk_h: [nope, kv_lora] v_h    = W_uv_h c
//   W_uv_h: [v, kv_lora] out    = o(concat_h softmax(q_h · k_h · scale) v_h)
//
// The cache keeps only [c ; rope(kpe)] per token and layer (kv_lora + rope floats). Decode
// uses the absorbed form: q̃_h = [W_uk_hᵀ q_nope_h ; q_pe_h] attends over the latents directly
// (one shared "KV head" of width kv_lora + rope) and the attended latent is projected by
// W_uv_h afterwards. Prefill may instead expand keys and values per head from the latents.
//
// The up-projections are stored either fused (HF kv_b_proj: [n_head·(nope + v), kv_lora],
// per head nope rows of W_uk then v rows of W_uv) or split (GGUF attn_k_b: per head W_ukᵀ
// [kv_lora, nope]; attn_v_b: per head W_uv [v, kv_lora]).
#pragma once

#include <vector>

#include "model/decoder.h"

namespace pangolin {

struct MlaWeights {
    Weight q;                      // [n_head·(nope+rope), n_embd] when there is no q LoRA
    Weight q_a;                    // [q_lora, n_embd]
    std::vector<float> q_a_norm;   // [q_lora]
    Weight q_b;                    // [n_head·(nope+rope), q_lora]
    Weight kv_a;                   // [kv_lora + rope, n_embd]
    std::vector<float> kv_a_norm;  // [kv_lora]
    bool fused_kv_b = false;
    Weight kv_b;  // fused: [n_head·(nope+v), kv_lora]
    Weight k_b;   // split: [n_head·kv_lora, nope]
    Weight v_b;   // split: [n_head·v, kv_lora]
    Weight o;     // [n_embd, n_head·v]
};

MlaWeights load_mla(const TensorLoader& loader, int64_t layer, const ModelConfig& c);

// softmax scale: 1/sqrt(nope + rope), times DeepSeek's YaRN mscale² when it applies.
float mla_softmax_scale(const ModelConfig& c);

void mla_attention(const MlaWeights& w, const ModelConfig& c, const RopeTable& rope,
                   float softmax_scale, MlaMode mode, int64_t layer, ForwardContext& ctx,
                   const float* h, float* out);

}  // namespace pangolin
