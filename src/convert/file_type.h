// File types of `pangolin quantize` and `pangolin convert --type`, and the type each tensor
// gets: llama-quantize's rules (llama.cpp src/llama-quant.cpp, llama_tensor_get_type) for the
// llama.cpp file types, so that a file quantized here has the same tensor types as
// llama-quantize's; plus Pangolin's block-scaled FP8 (docs/gguf-fp8.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace pangolin {

// llama.cpp's llama_ftype values (general.file_type); FP8 has none and is Pangolin's own.
enum class FileType : int {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 7,
    Q4_K_M = 15,
    Q6_K = 18,
    BF16 = 32,
    MXFP4_MOE = 38,
    FP8 = -1,
};

struct FileTypeSpec {
    FileType type = FileType::F32;
    bool pure = false;  // llama-quantize --pure: the base type for every quantizable tensor
};

// "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M" (and "Q4_K", its alias in llama-quantize),
// "Q6_K", "MXFP4_MOE", "MXFP4" (= MXFP4_MOE --pure), "FP8"; case-insensitive.
std::optional<FileTypeSpec> parse_file_type(std::string_view name);
std::string file_type_names();  // for help and error messages
const char* file_type_name(FileType type);
// The type of a quantizable tensor before the per-tensor rules (llama_ftype_get_default_type).
DType file_type_base(FileType type);

// A tensor as the rules see it.
struct TensorInfo {
    std::string name;
    std::vector<int64_t> shape;  // outermost first
    DType type = DType::F32;     // as stored in the input (F32 for tensors converted from HF)
    bool fp8_source = false;     // stored as block-scaled FP8 in the source checkpoint
};

// What the rules need to know of the model.
struct QuantModelInfo {
    std::string arch;  // GGUF architecture name
    int64_t n_layer = 0, n_head = 0, n_head_kv = 0, n_expert = 0;
};

// llama-quantize's tensor order: by layer number (tensors outside blk.N first), then by name.
// Its per-layer counters (attn_v, ffn_down) advance in this order.
bool llama_tensor_order(const std::string& a, const std::string& b);

// Chooses the stored type of every tensor of one output file. Call choose() once per tensor,
// in llama_tensor_order.
class TypeChooser {
  public:
    TypeChooser(FileTypeSpec spec, QuantModelInfo model, const std::vector<TensorInfo>& all);
    // The type for `t`; a fallback from the rule's type (rows not a multiple of its block)
    // is described in *note (empty otherwise).
    DType choose(const TensorInfo& t, std::string* note);

  private:
    DType llama_rules(const TensorInfo& t, DType type);
    DType fp8_rule(const TensorInfo& t) const;

    FileTypeSpec spec_;
    QuantModelInfo model_;
    bool tied_embeddings_ = true;  // no output.weight: token_embd doubles as the output head
    bool source_has_fp8_ = false;
    bool type_70b_ = false;
    int n_attention_wv_ = 0, i_attention_wv_ = 0, i_ffn_down_ = 0, i_ffn_gate_ = 0, i_ffn_up_ = 0;
};

// llama-quantize quantizes only tensors of two or more dimensions whose name ends in "weight",
// except norms and expert routers (ffn_gate_inp); all others keep their stored type.
bool tensor_allows_quantization(const TensorInfo& t);

}  // namespace pangolin
