// pangolin inspect MODEL: architecture, hyperparameters, parameter count, tensor types.
#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "core/error.h"
#include "formats/gguf.h"
#include "model/registry.h"

namespace pangolin::cli {

namespace {

const char* rope_layout_name(RopeLayout l) {
    return l == RopeLayout::Neox ? "neox (rotate-half)" : "interleaved";
}
const char* rope_scaling_name(RopeScaling s) {
    switch (s) {
        case RopeScaling::Linear:
            return "linear";
        case RopeScaling::Llama3:
            return "llama3";
        case RopeScaling::Yarn:
            return "yarn";
        default:
            return "none";
    }
}

std::string human_count(double n) {
    char buf[32];
    if (n >= 1e9)
        std::snprintf(buf, sizeof buf, "%.2fB", n / 1e9);
    else if (n >= 1e6)
        std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
    else if (n >= 1e3)
        std::snprintf(buf, sizeof buf, "%.1fK", n / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.0f", n);
    return buf;
}

}  // namespace

Runner add_inspect(CLI::App& app) {
    auto path = std::make_shared<std::string>();
    auto show_tensors = std::make_shared<bool>(false);
    auto show_metadata = std::make_shared<bool>(false);
    app.add_option("model", *path, "GGUF file or Hugging Face folder")->required();
    app.add_flag("--tensors", *show_tensors, "List every tensor");
    app.add_flag("--metadata", *show_metadata, "List every GGUF metadata key");
    return [path, show_tensors, show_metadata]() {
        LoadOptions lo;
        lo.n_threads = 1;
        auto model = load_model(*path, lo);
        const ModelConfig& c = model->config();
        const ModelSource& src = model->source();
        std::printf("model:          %s\n", path->c_str());
        std::printf("format:         %s\n",
                    src.is_gguf() ? "GGUF" : "Hugging Face folder (safetensors)");
        std::printf("architecture:   %s%s%s\n", c.arch.c_str(), c.hf_arch.empty() ? "" : " / ",
                    c.hf_arch.c_str());
        if (!c.name.empty()) std::printf("name:           %s\n", c.name.c_str());
        std::printf("vocab:          %lld\n", (long long)c.n_vocab);
        std::printf("hidden:         %lld\n", (long long)c.n_embd);
        std::printf("layers:         %lld\n", (long long)c.n_layer);
        std::printf("heads:          %lld (kv %lld), head_dim %lld (v %lld)\n", (long long)c.n_head,
                    (long long)c.n_head_kv, (long long)c.head_dim, (long long)c.head_dim_v);
        if (c.n_ff) std::printf("ffn:            %lld\n", (long long)c.n_ff);
        if (c.is_moe())
            std::printf(
                "experts:        %lld routed (%lld per token, width %lld), %lld shared, %lld "
                "leading dense layers, router %s\n",
                (long long)c.n_expert, (long long)c.n_expert_used, (long long)c.n_ff_expert,
                (long long)c.n_shared_expert, (long long)c.n_dense_lead, c.router.c_str());
        if (c.is_mla())
            std::printf("mla:            q_lora %lld, kv_lora %lld, qk_nope %lld, qk_rope %lld\n",
                        (long long)c.q_lora_rank, (long long)c.kv_lora_rank,
                        (long long)c.qk_nope_head_dim, (long long)c.qk_rope_head_dim);
        std::printf("rope:           theta %g, %lld dims, %s, scaling %s", c.rope.theta,
                    (long long)c.rope.n_dims, rope_layout_name(c.rope.layout),
                    rope_scaling_name(c.rope.scaling));
        if (c.rope.scaling != RopeScaling::None)
            std::printf(" ×%g (original context %lld)", c.rope.factor,
                        (long long)c.rope.original_context);
        std::printf("\n");
        std::printf("norm eps:       %g\n", c.norm_eps);
        std::printf("context:        %lld (training)\n", (long long)c.n_ctx_train);
        std::printf("tied embedding: %s\n", c.tie_embeddings ? "yes" : "no");
        std::printf("bos / eos:      %lld / %lld\n", (long long)c.bos_id, (long long)c.eos_id);
        const auto kv = model->kv_shape(1);
        std::printf("kv cache:       %lld bytes per token (f32, %lld layers × %lld floats)\n",
                    (long long)kv.bytes_per_token(), (long long)kv.n_layer,
                    (long long)(kv.k_width + kv.v_width));

        std::map<std::string, std::pair<int, size_t>> by_type;
        int64_t n_params = 0;
        size_t bytes = 0;
        for (const auto* t : src.tensors()) {
            auto& e = by_type[dtype_name(t->type)];
            ++e.first;
            e.second += t->nbytes;
            n_params += t->numel();
            bytes += t->nbytes;
        }
        std::printf("parameters:     %s (%lld)\n", human_count(double(n_params)).c_str(),
                    (long long)n_params);
        std::printf("tensor bytes:   %.2f MB (%.2f bits per parameter)\n", double(bytes) / 1e6,
                    n_params ? 8.0 * double(bytes) / double(n_params) : 0.0);
        std::printf("tensor types:\n");
        for (const auto& [type, e] : by_type)
            std::printf("  %-8s %5d tensors %10.2f MB\n", type.c_str(), e.first,
                        double(e.second) / 1e6);
        if (*show_tensors)
            for (const auto* t : src.tensors())
                std::printf("  %-48s %-8s %s\n", t->name.c_str(), dtype_name(t->type),
                            t->shape_str().c_str());
        if (*show_metadata && src.gguf())
            for (const auto& [k, v] : src.gguf()->metadata())
                std::printf("  %s = %s\n", k.c_str(), v.to_string().c_str());
        return 0;
    };
}

}  // namespace pangolin::cli
