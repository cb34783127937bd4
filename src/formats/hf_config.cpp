// Hugging Face config.json → ModelConfig. Renamed keys go through one alias table.
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/model_source.h"

namespace pangolin {

namespace {

using nlohmann::json;

// Canonical key → other spellings used by some model families' configs.
struct Alias {
    const char* canonical;
    const char* alias;
};
constexpr Alias k_aliases[] = {
    // openPangu-Ultra-MoE
    {"q_lora_rank", "attention_q_lora_dim"},
    {"kv_lora_rank", "attention_kv_lora_dim"},
    {"qk_nope_head_dim", "attention_qk_dim"},
    {"qk_rope_head_dim", "attention_qk_rope_dim"},
    {"v_head_dim", "attention_v_dim"},
    {"n_routed_experts", "num_routed_experts"},
    {"n_shared_experts", "num_shared_experts"},
    {"first_k_dense_replace", "num_dense_layers"},
    // Qwen-MoE / Pangu Pro MoE
    {"n_routed_experts", "num_experts"},
    // a few older configs
    {"num_hidden_layers", "n_layer"},
    {"hidden_size", "n_embd"},
    {"num_attention_heads", "n_head"},
    {"rms_norm_eps", "layer_norm_epsilon"},
    {"max_position_embeddings", "n_positions"},
};

}  // namespace

const json* hf_config_value(const json& config, const std::string& key) {
    if (auto it = config.find(key); it != config.end() && !it->is_null()) return &*it;
    for (const auto& a : k_aliases)
        if (key == a.canonical)
            if (auto it = config.find(a.alias); it != config.end() && !it->is_null()) return &*it;
    return nullptr;
}

ModelConfig config_from_hf(const json& j, const std::string& path) {
    ModelConfig c;
    c.source = SourceKind::HfFolder;
    auto int_or = [&](const std::string& key, int64_t fallback) -> int64_t {
        const json* v = hf_config_value(j, key);
        if (!v) return fallback;
        require(v->is_number_integer(), path, ": key '", key, "' must be an integer, found ",
                v->dump());
        return v->get<int64_t>();
    };
    auto need_int = [&](const std::string& key) -> int64_t {
        require(hf_config_value(j, key) != nullptr, path, ": missing required key '", key, "'");
        const int64_t v = int_or(key, 0);
        require(v > 0, path, ": key '", key, "' must be positive, got ", v);
        return v;
    };
    auto num_or = [&](const std::string& key, double fallback) -> double {
        const json* v = hf_config_value(j, key);
        if (!v) return fallback;
        require(v->is_number(), path, ": key '", key, "' must be a number, found ", v->dump());
        return v->get<double>();
    };
    auto bool_or = [&](const std::string& key, bool fallback) -> bool {
        const json* v = hf_config_value(j, key);
        if (!v) return fallback;
        require(v->is_boolean(), path, ": key '", key, "' must be true or false, found ",
                v->dump());
        return v->get<bool>();
    };

    const json* archs = hf_config_value(j, "architectures");
    require(archs && archs->is_array() && !archs->empty() && (*archs)[0].is_string(), path,
            ": missing required key 'architectures' (a list naming the model class)");
    c.hf_arch = (*archs)[0].get<std::string>();
    if (const json* mt = hf_config_value(j, "model_type"); mt && mt->is_string())
        c.name = mt->get<std::string>();

    c.n_embd = need_int("hidden_size");
    c.n_layer = need_int("num_hidden_layers");
    c.n_head = need_int("num_attention_heads");
    c.n_vocab = need_int("vocab_size");
    c.n_head_kv = int_or("num_key_value_heads", c.n_head);
    c.head_dim = int_or("head_dim", c.n_embd / c.n_head);
    c.head_dim_v = c.head_dim;
    c.n_ff = int_or("intermediate_size", 0);
    c.n_ctx_train = int_or("max_position_embeddings", 4096);
    c.norm_eps = num_or("rms_norm_eps", 1e-6);
    c.tie_embeddings = bool_or("tie_word_embeddings", false);
    c.bos_id = int_or("bos_token_id", -1);
    if (const json* eos = hf_config_value(j, "eos_token_id")) {
        if (eos->is_number_integer())
            c.eos_id = eos->get<int64_t>();
        else if (eos->is_array() && !eos->empty() && (*eos)[0].is_number_integer())
            c.eos_id = (*eos)[0].get<int64_t>();
    }

    c.rope.theta = num_or("rope_theta", 10000.0);
    c.rope.n_dims = int64_t(double(c.head_dim) * num_or("partial_rotary_factor", 1.0));
    c.rope.layout = RopeLayout::Neox;  // HF's rotate_half
    if (const json* rs = hf_config_value(j, "rope_scaling"); rs && rs->is_object()) {
        std::string type;
        if (rs->contains("rope_type") && (*rs)["rope_type"].is_string())
            type = (*rs)["rope_type"];
        else if (rs->contains("type") && (*rs)["type"].is_string())
            type = (*rs)["type"];
        auto get = [&](const char* k, double fallback) {
            return rs->contains(k) && (*rs)[k].is_number() ? (*rs)[k].get<double>() : fallback;
        };
        c.rope.factor = get("factor", 1.0);
        c.rope.original_context =
            int64_t(get("original_max_position_embeddings", double(c.n_ctx_train)));
        if (type == "linear")
            c.rope.scaling = RopeScaling::Linear;
        else if (type == "llama3")
            c.rope.scaling = RopeScaling::Llama3;
        else if (type == "yarn" || type == "deepseek_yarn")
            c.rope.scaling = RopeScaling::Yarn;
        else if (type == "default" || type.empty())
            c.rope.scaling = RopeScaling::None;
        else
            fail(path, ": unsupported rope_scaling type '", type, "'");
        c.rope.low_freq_factor = get("low_freq_factor", 1.0);
        c.rope.high_freq_factor = get("high_freq_factor", 4.0);
        c.rope.beta_fast = get("beta_fast", 32.0);
        c.rope.beta_slow = get("beta_slow", 1.0);
        c.rope.yarn_mscale = get("mscale", 1.0);
        c.rope.yarn_mscale_all_dim = get("mscale_all_dim", 0.0);
        if (rs->contains("attention_factor") && (*rs)["attention_factor"].is_number())
            c.rope.yarn_attn_factor = (*rs)["attention_factor"].get<double>();
    }

    c.n_expert = int_or("n_routed_experts", 0);
    c.n_expert_used = int_or("num_experts_per_tok", 0);
    c.n_ff_expert = int_or("moe_intermediate_size", 0);
    c.n_shared_expert = int_or("n_shared_experts", 0);
    c.n_ff_shared = int_or("shared_expert_intermediate_size", 0);
    c.n_dense_lead = int_or("first_k_dense_replace", 0);
    c.n_expert_group = int_or("n_group", 0);
    c.n_group_used = int_or("topk_group", 0);
    c.routed_scale = num_or("routed_scaling_factor", 1.0);
    c.norm_topk_prob = bool_or("norm_topk_prob", false);

    c.q_lora_rank = int_or("q_lora_rank", 0);
    c.kv_lora_rank = int_or("kv_lora_rank", 0);
    if (c.kv_lora_rank > 0) {
        c.qk_nope_head_dim = need_int("qk_nope_head_dim");
        c.qk_rope_head_dim = need_int("qk_rope_head_dim");
        c.head_dim = c.qk_nope_head_dim + c.qk_rope_head_dim;
        c.head_dim_v = need_int("v_head_dim");
        c.rope.n_dims = c.qk_rope_head_dim;
    }
    return c;
}

}  // namespace pangolin
