// GGUF reader (versions 2 and 3). The whole file is memory-mapped; tensor data is used in
// place. Every length, count and offset read from the file is checked against the file's
// size before use, so a truncated or corrupt file produces an Error naming the problem.
//
// File layout: "GGUF" | u32 version | u64 n_tensors | u64 n_kv | n_kv × (key, u32 type,
// value) | n_tensors × (name, u32 n_dims, u64 dims[n_dims] innermost first, u32 ggml_type,
// u64 offset) | padding to `general.alignment` (default 32) | tensor data.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor.h"

namespace pangolin {

enum class GgufType : uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};
const char* gguf_type_name(GgufType t);
// Bytes of one value of a fixed-size type; 0 for String and Array.
size_t gguf_scalar_size(GgufType t);

// Block-scaled FP8 in GGUF, Pangolin's convention (docs/gguf-fp8.md): a file whose metadata
// holds k_gguf_fp8_block_key = B stores an FP8 weight "<stem>.weight" as an I8 tensor of
// E4M3 bit patterns, with a companion "<stem>.block_scale" of shape
// [..., ceil(rows/B), ceil(cols/B)] holding one E8M0 exponent byte (I8 tensor) or one F32
// factor per B × B block (per slice of the leading dimensions). The reader retypes such pairs
// to F8_E4M3 / E8M0.
inline constexpr const char* k_gguf_fp8_block_key = "pangolin.fp8.block_size";
// "<stem>.weight" → "<stem>.block_scale"; empty for names not ending in ".weight".
std::string gguf_fp8_scale_name(const std::string& weight_name);

struct GgufValue {
    GgufType type = GgufType::U8;
    // Scalars (the member matching `type`'s family is set).
    int64_t i = 0;
    uint64_t u = 0;
    double f = 0;
    bool b = false;
    std::string s;
    // Arrays: element type and count; numeric elements stay in the map (`raw`), strings
    // and nested arrays are decoded.
    GgufType elem_type = GgufType::U8;
    uint64_t count = 0;
    const uint8_t* raw = nullptr;
    std::vector<std::string> strings;
    std::vector<GgufValue> items;

    bool is_integer() const;
    bool is_float() const { return type == GgufType::F32 || type == GgufType::F64; }
    std::string to_string(size_t max_items = 8) const;  // for inspect
};

class GgufFile {
  public:
    explicit GgufFile(const std::string& path);

    const std::string& path() const { return file_->path(); }
    uint32_t version() const { return version_; }
    size_t alignment() const { return alignment_; }
    size_t file_size() const { return file_->size(); }
    const std::shared_ptr<MappedFile>& mapped() const { return file_; }

    const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
    const GgufValue* find(const std::string& key) const;

    // Typed accessors: nullopt when absent; an Error when present with an incompatible type.
    std::optional<int64_t> get_int(const std::string& key) const;
    std::optional<double> get_float(const std::string& key) const;
    std::optional<bool> get_bool(const std::string& key) const;
    std::optional<std::string> get_string(const std::string& key) const;
    std::vector<std::string> get_strings(const std::string& key) const;
    std::vector<float> get_floats(const std::string& key) const;
    std::vector<int64_t> get_ints(const std::string& key) const;

    const std::vector<TensorView>& tensors() const { return tensors_; }
    const TensorView* find_tensor(const std::string& name) const;
    // The FP8 block size of k_gguf_fp8_block_key; 0 when the file holds no FP8 tensors.
    int64_t fp8_block() const { return fp8_block_; }

  private:
    std::shared_ptr<MappedFile> file_;
    uint32_t version_ = 0;
    size_t alignment_ = 32;
    size_t data_offset_ = 0;
    std::vector<std::pair<std::string, GgufValue>> kv_;
    std::map<std::string, size_t> kv_index_;
    std::vector<TensorView> tensors_;
    std::map<std::string, size_t> tensor_index_;
    int64_t fp8_block_ = 0;
};

}  // namespace pangolin
