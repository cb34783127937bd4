#include "model/weights.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/quant_ref.h"
#include "formats/gguf.h"

namespace pangolin {

namespace {

// Standard layer-relative stems: GGUF (llama.cpp) name → Hugging Face name.
const std::map<std::string, std::string>& standard_stems() {
    static const std::map<std::string, std::string> m = {
        {"attn_norm", "input_layernorm"},
        {"ffn_norm", "post_attention_layernorm"},
        {"attn_q", "self_attn.q_proj"},
        {"attn_k", "self_attn.k_proj"},
        {"attn_v", "self_attn.v_proj"},
        {"attn_output", "self_attn.o_proj"},
        {"attn_q_norm", "self_attn.q_norm"},
        {"attn_k_norm", "self_attn.k_norm"},
        {"ffn_gate", "mlp.gate_proj"},
        {"ffn_up", "mlp.up_proj"},
        {"ffn_down", "mlp.down_proj"},
        // multi-head latent attention (DeepSeek-V2/V3)
        {"attn_q_a", "self_attn.q_a_proj"},
        {"attn_q_a_norm", "self_attn.q_a_layernorm"},
        {"attn_q_b", "self_attn.q_b_proj"},
        {"attn_kv_a_mqa", "self_attn.kv_a_proj_with_mqa"},
        {"attn_kv_a_norm", "self_attn.kv_a_layernorm"},
        {"attn_kv_b", "self_attn.kv_b_proj"},
    };
    return m;
}

}  // namespace

std::map<std::string, std::string> hf_stem_overrides(const std::string& arch) {
    if (arch == "pangu-ultra-moe") {
        // Sandwich norms: HF's post_attention_layernorm normalizes the attention output here
        // (not the FFN input, as in Llama); GGUF names as llama.cpp's Gemma 2 sandwich norms.
        return {
            {"post_attention_norm", "post_attention_layernorm"},
            {"ffn_norm", "pre_mlp_layernorm"},
            {"post_ffw_norm", "post_mlp_layernorm"},
        };
    }
    return {};
}

TensorLoader::TensorLoader(const ModelSource& source, SimdLevel level,
                           std::map<std::string, std::string> hf_overrides, Sharding sharding)
    : source_(source), level_(level), sharding_(sharding), hf_stems_(standard_stems()) {
    for (auto& [k, v] : hf_overrides) hf_stems_[k] = v;
    if (source.is_gguf()) {
        if (source.gguf()->fp8_block() > 0) fp8_block_ = source.gguf()->fp8_block();
    } else {
        const auto& cfg = source.hf_config();
        if (auto q = cfg.find("quantization_config"); q != cfg.end() && q->is_object()) {
            if (auto bs = q->find("weight_block_size");
                bs != q->end() && bs->is_array() && !bs->empty()) {
                require((*bs)[0].is_number_integer() && (bs->size() < 2 || (*bs)[1] == (*bs)[0]),
                        source.path(), ": quantization_config.weight_block_size must be [n, n]");
                fp8_block_ = (*bs)[0].get<int64_t>();
            }
        }
    }
}

std::string TensorLoader::stored_name(const std::string& canonical) const {
    if (source_.is_gguf()) return canonical;
    // split "blk.N.stem.suffix" / "stem.suffix"
    std::string rest = canonical, prefix;
    if (canonical.rfind("blk.", 0) == 0) {
        const size_t dot = canonical.find('.', 4);
        prefix = "model.layers." + canonical.substr(4, dot - 4) + ".";
        rest = canonical.substr(dot + 1);
    } else {
        if (rest == "token_embd.weight") return "model.embed_tokens.weight";
        if (rest == "output_norm.weight") return "model.norm.weight";
        if (rest == "output.weight") return "lm_head.weight";
    }
    const size_t last = rest.rfind('.');
    const std::string stem = rest.substr(0, last), suffix = rest.substr(last);
    auto it = hf_stems_.find(stem);
    if (it != hf_stems_.end()) return prefix + it->second + suffix;
    return prefix + rest;
}

const TensorView* TensorLoader::find(const std::string& canonical) const {
    return source_.find(stored_name(canonical));
}

void TensorLoader::missing(const std::string& canonical) const {
    const auto stored = stored_name(canonical);
    fail(source_.path(), ": tensor '", stored, "' is missing",
         stored == canonical ? "" : " (" + canonical + " in GGUF naming)",
         "; the file does not match its declared architecture '", source_.architecture(), "'");
}

void TensorLoader::check_shape(const TensorView& t, const std::string& canonical,
                               const std::vector<int64_t>& shape) const {
    require(t.shape == shape, source_.path(), ": tensor '", t.name, "' has shape ", t.shape_str(),
            ", but the model configuration expects ", shape_to_string(shape));
}

TensorView TensorLoader::fp8_scale(const std::string& weight_name) const {
    // HF checkpoints: "<name>_scale_inv"; GGUF (docs/gguf-fp8.md): "<stem>.block_scale"
    const std::string scale_name =
        source_.is_gguf() ? gguf_fp8_scale_name(weight_name) : weight_name + "_scale_inv";
    const TensorView* scale = source_.find(scale_name);
    require(scale != nullptr, source_.path(), ": FP8 tensor '", weight_name,
            "' has no block scale tensor '", scale_name, "'");
    return *scale;
}

Weight TensorLoader::wrap(const TensorView& t) const {
    if (t.type == DType::F8_E4M3) {
        TensorView scale = fp8_scale(t.name);
        // a stacked weight viewed as one matrix (MLA's per-head attn_k_b): its per-slice scale
        // grid is the matrix's grid when the slice rows are whole blocks (checked by
        // make_weight_fp8)
        if (scale.rank() > 2) scale.shape = {scale.numel() / scale.cols(), scale.cols()};
        return make_weight_fp8(t, scale, fp8_block_, level_);
    }
    return make_weight(t, level_);
}

Weight TensorLoader::matrix(const std::string& canonical, int64_t rows, int64_t cols) const {
    const TensorView* t = find(canonical);
    if (!t) missing(canonical);
    check_shape(*t, canonical, {rows, cols});
    return wrap(*t);
}

std::optional<Weight> TensorLoader::optional_matrix(const std::string& canonical, int64_t rows,
                                                    int64_t cols) const {
    if (!has(canonical)) return std::nullopt;
    return matrix(canonical, rows, cols);
}

TensorView TensorLoader::tensor(const std::string& canonical,
                                const std::vector<int64_t>& shape) const {
    const TensorView* t = find(canonical);
    if (!t) missing(canonical);
    check_shape(*t, canonical, shape);
    return *t;
}

std::vector<Weight> TensorLoader::experts(const std::string& gguf_stacked,
                                          const std::string& hf_pattern, int64_t n_expert,
                                          int64_t rows, int64_t cols,
                                          const std::function<bool(int64_t)>& wanted) const {
    std::vector<Weight> out(static_cast<size_t>(n_expert));
    if (source_.is_gguf()) {
        const TensorView stacked = tensor(gguf_stacked, {n_expert, rows, cols});
        const bool fp8 = stacked.type == DType::F8_E4M3;
        const TensorView scale = fp8 ? fp8_scale(stacked.name) : TensorView{};
        require(!fp8 || (scale.rank() == 3 && scale.dim(0) == n_expert), source_.path(),
                ": FP8 scale of '", stacked.name, "' has shape ", scale.shape_str(),
                ", expected one grid per expert");
        for (int64_t e = 0; e < n_expert; ++e) {
            if (wanted && !wanted(e)) continue;
            out[size_t(e)] =
                fp8 ? make_weight_fp8(stacked.slice(e), scale.slice(e), fp8_block_, level_)
                    : make_weight(stacked.slice(e), level_);
        }
        return out;
    }
    const size_t at = hf_pattern.find("{e}");
    require(at != std::string::npos, "internal: expert name pattern without {e}: ", hf_pattern);
    for (int64_t e = 0; e < n_expert; ++e) {
        if (wanted && !wanted(e)) continue;
        const std::string name =
            hf_pattern.substr(0, at) + std::to_string(e) + hf_pattern.substr(at + 3);
        const TensorView* t = source_.find(name);
        require(t != nullptr, source_.path(), ": tensor '", name, "' is missing (expert ", e,
                " of ", n_expert, ")");
        check_shape(*t, name, {rows, cols});
        out[size_t(e)] = wrap(*t);
    }
    return out;
}

const TensorView* TensorLoader::find_stored(const std::string& stored,
                                            const std::vector<int64_t>& shape) const {
    const TensorView* t = source_.find(stored);
    if (t) check_shape(*t, stored, shape);
    return t;
}

std::vector<float> TensorLoader::vector(const std::string& canonical, int64_t n) const {
    const TensorView* t = find(canonical);
    if (!t) missing(canonical);
    check_shape(*t, canonical, {n});
    std::vector<float> out(static_cast<size_t>(n));
    dequantize_row_ref(t->type, t->data, out.data(), n);
    return out;
}

std::vector<float> TensorLoader::optional_vector(const std::string& canonical, int64_t n) const {
    return has(canonical) ? vector(canonical, n) : std::vector<float>{};
}

}  // namespace pangolin
