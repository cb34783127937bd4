// Element and block types of stored tensors. Quantized types are stored as blocks: a block
// holds `block_elems` consecutive values of one row in `block_bytes` bytes (layouts in
// blocks.h). A row of n values therefore takes n / block_elems * block_bytes bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pangolin {

enum class DType : uint8_t {
    F32,
    F16,
    BF16,
    Q8_0,   // 32 values: f16 scale + 32 int8
    Q4_0,   // 32 values: f16 scale + 16 bytes of 4-bit quants
    Q4_K,   // 256 values: super-block with 8 sub-blocks, 6-bit scales and mins
    Q6_K,   // 256 values: 16 sub-blocks, 8-bit scales, 6-bit quants
    MXFP4,  // 32 values: E8M0 exponent + 16 bytes of FP4 (E2M1) codes
    F8_E4M3,
    E8M0,
    U8,
    I8,
    I16,
    I32,
    I64,
    F64,
    Q8_K,  // 256 values: f32 scale + 256 int8 + 16 int16 sums (activations for K-quant dots)
    Q5_0,  // 32 values: f16 scale + 32 high bits + 16 bytes of low nibbles
    Q5_K,  // 256 values: Q4_K's super-block with a fifth bit per value
    Count
};

struct DTypeTraits {
    const char* name;
    int64_t block_elems;
    int64_t block_bytes;
    bool quantized;
};

const DTypeTraits& dtype_traits(DType t);
inline const char* dtype_name(DType t) {
    return dtype_traits(t).name;
}
inline int64_t dtype_block_elems(DType t) {
    return dtype_traits(t).block_elems;
}
inline int64_t dtype_block_bytes(DType t) {
    return dtype_traits(t).block_bytes;
}

// Bytes of one row of n values; throws when n is not a multiple of the block size.
size_t dtype_row_bytes(DType t, int64_t n);

// GGUF (ggml_type ids) and safetensors ("F32", "BF16", "F8_E4M3", ...) spellings.
std::optional<DType> dtype_from_ggml(uint32_t ggml_type);
uint32_t dtype_to_ggml(DType t);
std::string ggml_type_name(uint32_t ggml_type);  // for messages about unsupported types
std::optional<DType> dtype_from_safetensors(std::string_view s);
std::optional<DType> dtype_from_name(std::string_view s);  // "q8_0", "Q4_K", "f16", ...

}  // namespace pangolin
