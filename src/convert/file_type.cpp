#include "convert/file_type.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/error.h"

namespace pangolin {

namespace {

struct FileTypeName {
    const char* name;
    FileTypeSpec spec;
};
constexpr FileTypeName k_names[] = {
    {"F32", {FileType::F32, false}},
    {"F16", {FileType::F16, false}},
    {"BF16", {FileType::BF16, false}},
    {"Q8_0", {FileType::Q8_0, false}},
    {"Q4_0", {FileType::Q4_0, false}},
    {"Q4_K_M", {FileType::Q4_K_M, false}},
    {"Q4_K", {FileType::Q4_K_M, false}},
    {"Q6_K", {FileType::Q6_K, false}},
    {"MXFP4_MOE", {FileType::MXFP4_MOE, false}},
    {"MXFP4", {FileType::MXFP4_MOE, true}},
    {"FP8", {FileType::FP8, false}},
};

// Broad roles by name, as llama-quantize's tensor_get_category (order matters: "attn_v.weight"
// before "ffn_*", and "ffn_gate" also matches ffn_gate_exps / ffn_gate_shexp).
enum class Category {
    TokenEmbd,
    Output,
    AttnQkv,
    AttnKvB,
    AttnV,
    AttnK,
    AttnQ,
    AttnOutput,
    FfnUp,
    FfnGate,
    FfnDown,
    Other
};

bool contains(const std::string& s, const char* part) {
    return s.find(part) != std::string::npos;
}

Category category_of(const std::string& name) {
    if (name == "output.weight") return Category::Output;
    if (name == "token_embd.weight") return Category::TokenEmbd;
    if (contains(name, "attn_qkv.weight")) return Category::AttnQkv;
    if (contains(name, "attn_kv_b.weight")) return Category::AttnKvB;
    if (contains(name, "attn_v.weight")) return Category::AttnV;
    if (contains(name, "attn_k.weight")) return Category::AttnK;
    if (contains(name, "attn_q.weight")) return Category::AttnQ;
    if (contains(name, "attn_output.weight")) return Category::AttnOutput;
    if (contains(name, "ffn_up")) return Category::FfnUp;
    if (contains(name, "ffn_gate")) return Category::FfnGate;
    if (contains(name, "ffn_down")) return Category::FfnDown;
    return Category::Other;
}

// attn_v-like tensors are more sensitive to quantization
bool is_attn_v_like(Category c) {
    return c == Category::AttnV || c == Category::AttnQkv || c == Category::AttnKvB;
}

int layer_of(const std::string& name) {
    int layer = -1;
    if (std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) return -1;
    return layer;
}

// Dimensions as ggml counts them: trailing (outermost) dimensions of size 1 do not count.
int n_dims(const std::vector<int64_t>& shape) {
    size_t skip = 0;
    while (skip + 1 < shape.size() && shape[skip] == 1) ++skip;
    return int(shape.size() - skip);
}

// ggml's ne[2]: the third dimension from the innermost (1 for matrices).
int64_t ne2(const std::vector<int64_t>& shape) {
    return shape.size() >= 3 ? shape[shape.size() - 3] : 1;
}

bool is_block_quant(DType t) {
    return dtype_traits(t).quantized;
}

}  // namespace

std::optional<FileTypeSpec> parse_file_type(std::string_view name) {
    std::string up(name);
    std::transform(up.begin(), up.end(), up.begin(),
                   [](unsigned char ch) { return char(std::toupper(ch)); });
    for (const auto& n : k_names)
        if (up == n.name) return n.spec;
    return std::nullopt;
}

std::string file_type_names() {
    std::string s;
    for (const auto& n : k_names) s += (s.empty() ? "" : ", ") + std::string(n.name);
    return s;
}

const char* file_type_name(FileType type) {
    for (const auto& n : k_names)
        if (n.spec.type == type && !n.spec.pure) return n.name;
    return "?";
}

DType file_type_base(FileType type) {
    switch (type) {
        case FileType::F32:
            return DType::F32;
        case FileType::F16:
            return DType::F16;
        case FileType::BF16:
            return DType::BF16;
        case FileType::Q8_0:
            return DType::Q8_0;
        case FileType::Q4_0:
            return DType::Q4_0;
        case FileType::Q4_K_M:
            return DType::Q4_K;
        case FileType::Q6_K:
            return DType::Q6_K;
        case FileType::MXFP4_MOE:
            return DType::MXFP4;
        case FileType::FP8:
            return DType::F8_E4M3;
    }
    fail("unknown file type");
}

bool llama_tensor_order(const std::string& a, const std::string& b) {
    const int la = layer_of(a), lb = layer_of(b);
    if (la != lb) return la < lb;
    return a < b;
}

bool tensor_allows_quantization(const TensorInfo& t) {
    if (n_dims(t.shape) < 2) return false;
    const std::string& n = t.name;
    if (n.size() < 6 || n.compare(n.size() - 6, 6, "weight") != 0) return false;
    if (contains(n, "_norm.weight")) return false;
    if (contains(n, "ffn_gate_inp.weight")) return false;  // expert routers stay exact
    return true;
}

TypeChooser::TypeChooser(FileTypeSpec spec, QuantModelInfo model,
                         const std::vector<TensorInfo>& all)
    : spec_(spec), model_(std::move(model)) {
    for (const auto& t : all) {
        const Category c = category_of(t.name);
        if (is_attn_v_like(c)) ++n_attention_wv_;
        if (c == Category::Output) tied_embeddings_ = false;
        source_has_fp8_ |= t.fp8_source || t.type == DType::F8_E4M3;
    }
    // llama.cpp's LLM_TYPE_70B (Llama 2/3 70B with GQA, Qwen2 72B), the only size its rules use
    type_70b_ =
        model_.n_layer == 80 &&
        ((model_.arch == "llama" && model_.n_head != model_.n_head_kv) || model_.arch == "qwen2");
}

DType TypeChooser::choose(const TensorInfo& t, std::string* note) {
    note->clear();
    if (!tensor_allows_quantization(t)) return t.type;
    if (spec_.type == FileType::FP8) return fp8_rule(t);
    DType type = file_type_base(spec_.type);
    if (!is_block_quant(type)) return type;  // F32 / F16 / BF16 files: no per-tensor rules
    if (!spec_.pure) type = llama_rules(t, type);

    // rows that are not a whole number of blocks: llama-quantize's fallbacks
    const int64_t cols = t.shape.back();
    if (cols % dtype_block_elems(type) == 0) return type;
    const DType wanted = type;
    switch (type) {
        case DType::Q4_K:
            type = DType::Q5_0;
            break;
        case DType::Q6_K:
            type = DType::Q8_0;
            break;
        case DType::Q5_K:
            type = DType::Q8_0;
            break;  // llama-quantize: Q5_1, which Pangolin does not write
        default:
            break;  // 32-value blocks: F16 below
    }
    if (cols % dtype_block_elems(type) != 0) type = DType::F16;
    *note = str_cat(t.name, ": rows of ", cols, " values are not a multiple of the ",
                    dtype_name(wanted), " block (", dtype_block_elems(wanted), "); using ",
                    dtype_name(type), " as llama-quantize does");
    return type;
}

DType TypeChooser::llama_rules(const TensorInfo& t, DType type) {
    const FileType ft = spec_.type;
    const Category cat = category_of(t.name);
    auto use_more_bits = [](int i_layer, int n_layers) {
        return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 ||
               (i_layer - n_layers / 8) % 3 == 2;
    };
    // The layer of a feed-forward tensor: its position among its kind in dense models; parsed
    // from the name in MoE models (whose expert tensors need not come in layer order).
    auto layer_info = [&](int counter) {
        if (model_.n_expert <= 1) return counter;
        const int layer = layer_of(t.name);
        require(layer >= 0 && layer < model_.n_layer, "tensor ", t.name,
                ": cannot tell its layer (0 to ", model_.n_layer - 1, ") from its name");
        return layer;
    };
    const int n_layer = int(model_.n_layer);

    if (cat == Category::Output || (tied_embeddings_ && cat == Category::TokenEmbd)) {
        // the output head (or the tied embedding serving as one) gets more bits
        if (ft == FileType::MXFP4_MOE) return DType::Q8_0;
        if (t.shape.back() % dtype_block_elems(type) != 0) return DType::Q8_0;
        if (type != DType::Q8_0) return DType::Q6_K;
        return type;
    }
    if (ft == FileType::MXFP4_MOE)
        return ne2(t.shape) > 1 ? DType::MXFP4 : DType::Q8_0;  // experts → MXFP4
    if (cat == Category::TokenEmbd) return type;
    if (is_attn_v_like(cat)) {
        if (ft == FileType::Q4_K_M && use_more_bits(i_attention_wv_, n_attention_wv_))
            type = DType::Q6_K;
        if (type_70b_ && type == DType::Q4_K) type = DType::Q5_K;
        if (model_.n_expert == 8) type = DType::Q8_0;
        ++i_attention_wv_;
        return type;
    }
    if (cat == Category::AttnK) return model_.n_expert == 8 ? DType::Q8_0 : type;
    if (cat == Category::FfnDown) {
        const int i_layer = layer_info(i_ffn_down_);
        if (ft == FileType::Q4_K_M && use_more_bits(i_layer, n_layer)) type = DType::Q6_K;
        ++i_ffn_down_;
        return type;
    }
    if (cat == Category::AttnOutput)
        return model_.n_expert == 8 && ft == FileType::Q4_K_M ? DType::Q5_K : type;
    if (cat == Category::FfnGate) {
        layer_info(i_ffn_gate_++);
        return type;
    }
    if (cat == Category::FfnUp) {
        layer_info(i_ffn_up_++);
        return type;
    }
    return type;
}

DType TypeChooser::fp8_rule(const TensorInfo& t) const {
    // Matrices and stacked experts in FP8; other 3-D tensors (MLA's per-head attn_k_b/attn_v_b)
    // in BF16, since a per-head block grid is not the matrix grid the kernels read. Like
    // DeepSeek's FP8 checkpoints, the embeddings and output head stay BF16; from an FP8
    // source, exactly the tensors it stored in FP8 are FP8 (plus nothing else).
    const bool matrix_like =
        n_dims(t.shape) == 2 || (n_dims(t.shape) == 3 && contains(t.name, "_exps."));
    if (!matrix_like) return DType::BF16;
    if (source_has_fp8_)
        return t.fp8_source || t.type == DType::F8_E4M3 ? DType::F8_E4M3 : DType::BF16;
    const Category cat = category_of(t.name);
    if (cat == Category::TokenEmbd || cat == Category::Output) return DType::BF16;
    return DType::F8_E4M3;
}

}  // namespace pangolin
