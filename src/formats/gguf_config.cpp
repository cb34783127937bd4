// GGUF metadata → ModelConfig, with llama.cpp's key names ("{arch}.block_count", ...).
#include <cmath>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/model_source.h"

namespace pangolin {

ModelConfig config_from_gguf(const GgufFile& g) {
    ModelConfig c;
    c.source = SourceKind::Gguf;
    const auto arch = g.get_string("general.architecture");
    require(arch.has_value(), g.path(), ": missing general.architecture");
    c.arch = *arch;
    c.name = g.get_string("general.name").value_or("");
    const std::string p = c.arch + ".";
    auto need_int = [&](const std::string& key) {
        const auto v = g.get_int(p + key);
        require(v.has_value(), g.path(), ": missing required metadata key '", p + key, "'");
        require(*v > 0, g.path(), ": metadata key '", p + key, "' must be positive, got ", *v);
        return *v;
    };
    c.n_embd = need_int("embedding_length");
    c.n_layer = need_int("block_count");
    c.n_head = need_int("attention.head_count");
    c.n_head_kv = g.get_int(p + "attention.head_count_kv").value_or(c.n_head);
    c.head_dim = g.get_int(p + "attention.key_length").value_or(c.n_embd / c.n_head);
    c.head_dim_v = g.get_int(p + "attention.value_length").value_or(c.head_dim);
    c.n_ff = g.get_int(p + "feed_forward_length").value_or(0);
    c.n_ctx_train = g.get_int(p + "context_length").value_or(4096);
    c.norm_eps = g.get_float(p + "attention.layer_norm_rms_epsilon").value_or(1e-5);
    c.n_vocab = g.get_int(p + "vocab_size").value_or(0);
    if (c.n_vocab == 0) c.n_vocab = int64_t(g.get_strings("tokenizer.ggml.tokens").size());
    if (c.n_vocab == 0)
        if (const auto* t = g.find_tensor("token_embd.weight")) c.n_vocab = t->dim(0);

    c.rope.theta = g.get_float(p + "rope.freq_base").value_or(10000.0);
    c.rope.n_dims = g.get_int(p + "rope.dimension_count").value_or(c.head_dim);
    const std::string scaling = g.get_string(p + "rope.scaling.type").value_or("none");
    const double factor = g.get_float(p + "rope.scaling.factor").value_or(1.0);
    if (scaling == "linear" && factor != 1.0)
        c.rope.scaling = RopeScaling::Linear;
    else if (scaling == "yarn")
        c.rope.scaling = RopeScaling::Yarn;
    else if (scaling != "none" && scaling != "linear")
        fail(g.path(), ": unsupported rope scaling type '", scaling, "'");
    c.rope.factor = factor;
    c.rope.original_context =
        g.get_int(p + "rope.scaling.original_context_length").value_or(c.n_ctx_train);
    c.rope.beta_fast = g.get_float(p + "rope.scaling.yarn_beta_fast").value_or(32.0);
    c.rope.beta_slow = g.get_float(p + "rope.scaling.yarn_beta_slow").value_or(1.0);
    // llama.cpp stores DeepSeek's 0.1 * mscale_all_dim as yarn_log_multiplier.
    if (const auto mul = g.get_float(p + "rope.scaling.yarn_log_multiplier"))
        c.rope.yarn_mscale_all_dim = *mul / 0.1;
    if (const auto* ff = g.find_tensor("rope_freqs.weight")) {
        require(ff->type == DType::F32, g.path(), ": rope_freqs.weight must be F32");
        const auto* f = reinterpret_cast<const float*>(ff->data);
        c.rope.freq_factors.assign(f, f + ff->numel());
    }

    c.n_expert = g.get_int(p + "expert_count").value_or(0);
    c.n_expert_used = g.get_int(p + "expert_used_count").value_or(0);
    c.n_ff_expert = g.get_int(p + "expert_feed_forward_length").value_or(0);
    c.n_shared_expert = g.get_int(p + "expert_shared_count").value_or(0);
    c.n_ff_shared = g.get_int(p + "expert_shared_feed_forward_length").value_or(0);
    c.n_dense_lead = g.get_int(p + "leading_dense_block_count").value_or(0);
    c.n_expert_group = g.get_int(p + "expert_group_count").value_or(0);
    c.n_group_used = g.get_int(p + "expert_group_used_count").value_or(0);
    c.routed_scale = g.get_float(p + "expert_weights_scale").value_or(1.0);
    c.norm_topk_prob = g.get_bool(p + "expert_weights_norm").value_or(false);

    c.q_lora_rank = g.get_int(p + "attention.q_lora_rank").value_or(0);
    c.kv_lora_rank = g.get_int(p + "attention.kv_lora_rank").value_or(0);
    if (c.kv_lora_rank > 0) {
        c.qk_rope_head_dim = c.rope.n_dims;
        const auto k_mla = g.get_int(p + "attention.key_length_mla");
        const auto v_mla = g.get_int(p + "attention.value_length_mla");
        c.qk_nope_head_dim = (k_mla ? *k_mla : c.head_dim) - c.qk_rope_head_dim;
        if (v_mla) c.head_dim_v = *v_mla;
        if (k_mla) c.head_dim = *k_mla;
    }

    c.bos_id = g.get_int("tokenizer.ggml.bos_token_id").value_or(-1);
    c.eos_id = g.get_int("tokenizer.ggml.eos_token_id").value_or(-1);
    return c;
}

}  // namespace pangolin
