#include "convert/convert.h"

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "convert/hf_tensors.h"
#include "convert/hf_vocab.h"
#include "convert/tensor_writer.h"
#include "core/error.h"
#include "core/log.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "model/registry.h"
#include "model/weights.h"

namespace pangolin {

namespace {

namespace fs = std::filesystem;

constexpr int64_t k_fp8_block = 128;
constexpr uint32_t k_quantization_version = 2;  // ggml's GGML_QNT_VERSION

// The metadata llama.cpp's converter writes for these architectures (and the Pangu MoE keys
// of docs/gguf-pangu-*.md), in the order of the reference files.
void set_model_metadata(GgufWriter& w, const ModelConfig& c, const nlohmann::json& hf,
                        const std::string& name, FileType file_type) {
    const std::string a = c.arch + ".";
    auto u32 = [](int64_t v) { return uint32_t(v); };
    w.set_string("general.architecture", c.arch);
    w.set_string("general.name", name);
    w.set_u32(a + "context_length", u32(c.n_ctx_train));
    w.set_u32(a + "embedding_length", u32(c.n_embd));
    w.set_u32(a + "block_count", u32(c.n_layer));
    if (c.n_ff > 0) w.set_u32(a + "feed_forward_length", u32(c.n_ff));
    w.set_u32(a + "attention.head_count", u32(c.n_head));
    w.set_f32(a + "attention.layer_norm_rms_epsilon", float(c.norm_eps));
    w.set_f32(a + "rope.freq_base", float(c.rope.theta));
    if (file_type != FileType::FP8) w.set_u32("general.file_type", u32(int(file_type)));
    w.set_u32(a + "vocab_size", u32(c.n_vocab));

    // gating: 1 softmax, 2 sigmoid (llama.cpp's llama_expert_gating_func_type)
    const uint32_t gating = c.router == "sigmoid_group_topk" || c.router == "sigmoid_topk" ? 2 : 1;
    if (c.is_mla()) {
        // MLA as llama.cpp stores it: one shared "KV head" of the latent (kv_lora + rope) for
        // the absorbed form; the per-head sizes in key_length_mla / value_length_mla
        w.set_u32(a + "attention.head_count_kv", 1);
        w.set_u32(a + "leading_dense_block_count", u32(c.n_dense_lead));
        if (c.q_lora_rank > 0) w.set_u32(a + "attention.q_lora_rank", u32(c.q_lora_rank));
        w.set_u32(a + "attention.kv_lora_rank", u32(c.kv_lora_rank));
        w.set_u32(a + "attention.key_length", u32(c.kv_lora_rank + c.qk_rope_head_dim));
        w.set_u32(a + "attention.value_length", u32(c.kv_lora_rank));
        w.set_u32(a + "attention.key_length_mla", u32(c.qk_nope_head_dim + c.qk_rope_head_dim));
        w.set_u32(a + "attention.value_length_mla", u32(c.head_dim_v));
        w.set_u32(a + "expert_feed_forward_length", u32(c.n_ff_expert));
        w.set_u32(a + "expert_count", u32(c.n_expert));
        w.set_u32(a + "expert_used_count", u32(c.n_expert_used));
        w.set_u32(a + "expert_shared_count", u32(c.n_shared_expert));
        if (hf_config_value(hf, "n_group")) {
            w.set_u32(a + "expert_group_count", u32(c.n_expert_group));
            w.set_u32(a + "expert_group_used_count", u32(c.n_group_used));
        }
        w.set_f32(a + "expert_weights_scale", float(c.routed_scale));
        w.set_bool(a + "expert_weights_norm", c.norm_topk_prob);
        w.set_u32(a + "expert_gating_func", gating);
    } else {
        w.set_u32(a + "attention.head_count_kv", u32(c.n_head_kv));
        w.set_u32(a + "attention.key_length", u32(c.head_dim));
        w.set_u32(a + "attention.value_length", u32(c.head_dim_v));
    }
    w.set_u32(a + "rope.dimension_count", u32(c.rope.n_dims));
    if (c.is_moe() && !c.is_mla()) {
        w.set_u32(a + "expert_count", u32(c.n_expert));
        w.set_u32(a + "expert_used_count", u32(c.n_expert_used));
        w.set_u32(a + "expert_feed_forward_length", u32(c.n_ff_expert));
        if (c.arch == "pangu-pro-moe") {
            // Mixture of Grouped Experts (docs/gguf-pangu-pro-moe.md)
            w.set_u32(a + "expert_shared_count", u32(c.n_shared_expert));
            w.set_u32(a + "expert_shared_feed_forward_length", u32(c.n_ff_shared));
            w.set_u32(a + "expert_group_count", u32(c.n_expert_group));
            w.set_u32(a + "expert_gating_func", gating);
            w.set_bool(a + "expert_weights_norm", false);
        }
    }
    const auto& r = c.rope;
    if (r.scaling == RopeScaling::Linear) {
        w.set_string(a + "rope.scaling.type", "linear");
        w.set_f32(a + "rope.scaling.factor", float(r.factor));
    } else if (r.scaling == RopeScaling::Yarn) {
        w.set_string(a + "rope.scaling.type", "yarn");
        w.set_f32(a + "rope.scaling.factor", float(r.factor));
        w.set_u32(a + "rope.scaling.original_context_length", u32(r.original_context));
        if (r.yarn_mscale_all_dim > 0)
            w.set_f32(a + "rope.scaling.yarn_log_multiplier", float(0.1 * r.yarn_mscale_all_dim));
        if (r.beta_fast != 32.0) w.set_f32(a + "rope.scaling.yarn_beta_fast", float(r.beta_fast));
        if (r.beta_slow != 1.0) w.set_f32(a + "rope.scaling.yarn_beta_slow", float(r.beta_slow));
    }
    // Llama 3 scaling travels as the rope_freqs.weight tensor (hf_tensors.cpp)
}

void check_distinct(const std::string& in, const std::string& out) {
    std::error_code ec;
    require(!(fs::exists(out) && fs::equivalent(in, out, ec)), out,
            ": the output would overwrite the input");
}

// Float32 rows of a stored GGUF tensor, decoded by the loader's weights (FP8 with its block
// scales; a 3-D tensor one expert slice at a time, since each has its own FP8 scale grid).
std::function<void(int64_t, int64_t, float*)> gguf_row_reader(const TensorLoader& loader,
                                                              const TensorView& t) {
    auto slices = std::make_shared<std::vector<Weight>>();
    return [&loader, &t, slices](int64_t r0, int64_t r1, float* out) {
        if (slices->empty())
            *slices = t.rank() == 3 ? loader.experts(t.name, "", t.dim(0), t.dim(1), t.dim(2))
                                    : std::vector{loader.wrap(t)};
        const int64_t rows_per_slice = t.rows() / int64_t(slices->size());
        for (int64_t r = r0; r < r1; ++r) {
            const Weight& w = (*slices)[size_t(r / rows_per_slice)];
            w.dequant(w, r % rows_per_slice, out + (r - r0) * t.cols());
        }
    };
}

}  // namespace

void convert_hf_to_gguf(const std::string& hf_dir, const std::string& out_path,
                        const ConvertOptions& options) {
    auto [source, config] = open_model_config(hf_dir);
    require(!source->is_gguf(), hf_dir,
            ": is a GGUF file; `pangolin convert` reads Hugging Face folders "
            "(`pangolin quantize` changes the types of a GGUF file)");
    const auto plans =
        plan_hf_tensors(*source, config);  // before creating any file: layout errors first
    std::unique_ptr<GgufFile> vocab_file;
    if (!options.vocab_from.empty()) vocab_file = std::make_unique<GgufFile>(options.vocab_from);
    std::string name = options.name;
    if (name.empty()) name = fs::path(hf_dir).lexically_normal().filename().string();
    if (name.empty()) name = fs::path(hf_dir).lexically_normal().parent_path().filename().string();

    GgufWriter writer(out_path);
    set_model_metadata(writer, config, source->hf_config(), name, options.file_type.type);
    if (vocab_file) {
        copy_gguf_vocab(writer, *vocab_file, config.n_vocab);
    } else if (!set_hf_vocab(writer, hf_dir, config.n_vocab, source->hf_config())) {
        log_info("warning: ", hf_dir,
                 " has no tokenizer.model or tokenizer.json: the GGUF gets no vocabulary "
                 "(llama.cpp needs one; --vocab-from GGUF copies one)");
    }
    if (dtype_traits(file_type_base(options.file_type.type)).quantized)
        writer.set_u32("general.quantization_version", k_quantization_version);
    const QuantModelInfo model{config.arch, config.n_layer, config.n_head, config.n_head_kv,
                               config.n_expert};
    write_planned_tensors(writer, plans, model,
                          {options.file_type, options.threads, k_fp8_block, false});
    log_info("converted ", hf_dir, " (", config.arch, ") to ", out_path);
}

void quantize_gguf(const std::string& in_path, const std::string& out_path,
                   const QuantizeOptions& options) {
    check_distinct(in_path, out_path);
    const auto source = ModelSource::open(in_path);
    require(source->is_gguf(), in_path,
            ": is not a GGUF file; `pangolin convert` reads Hugging Face folders");
    const GgufFile& in = *source->gguf();
    const TensorLoader loader(*source, simd_level());
    const ModelConfig c = source->read_config();

    // tensors: FP8 scales travel with their weights
    std::vector<TensorPlan> plans;
    bool requantize = false;
    for (const TensorView& t : in.tensors()) {
        if (t.type == DType::E8M0) continue;
        if (t.type == DType::F32 && in.fp8_block() > 0 && t.name.ends_with(".block_scale")) {
            const auto* w = in.find_tensor(t.name.substr(0, t.name.size() - 12) + ".weight");
            if (w && w->type == DType::F8_E4M3) continue;
        }
        requantize |= dtype_traits(t.type).quantized || t.type == DType::F8_E4M3;
        TensorPlan p;
        p.info = {t.name, t.shape, t.type, t.type == DType::F8_E4M3};
        p.raw = &t;
        p.read_rows = gguf_row_reader(loader, t);
        plans.push_back(std::move(p));
    }
    if (requantize)
        log_info("warning: ", in_path,
                 " already holds quantized tensors; those that change type are "
                 "requantized from their dequantized values (llama-quantize needs "
                 "--allow-requantize for this)");

    GgufWriter writer(out_path);
    for (const auto& [key, value] : in.metadata()) {
        if (key == "general.quantization_version" || key == "general.file_type" ||
            key == "general.alignment" || key == k_gguf_fp8_block_key)
            continue;
        writer.set_value(key, value);
    }
    writer.set_u32("general.quantization_version", k_quantization_version);
    if (options.file_type.type != FileType::FP8)
        writer.set_u32("general.file_type", uint32_t(int(options.file_type.type)));
    const QuantModelInfo model{c.arch, c.n_layer, c.n_head, c.n_head_kv, c.n_expert};
    write_planned_tensors(writer, plans, model,
                          {options.file_type, options.threads, k_fp8_block, true});
    log_info("quantized ", in_path, " to ", out_path, " (", file_type_name(options.file_type.type),
             options.file_type.pure ? ", pure" : "", ")");
}

}  // namespace pangolin
