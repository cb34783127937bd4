#include "core/dtype.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/blocks.h"
#include "core/error.h"

namespace pangolin {

namespace {

constexpr std::array<DTypeTraits, size_t(DType::Count)> k_traits = {{
    {"F32", 1, 4, false},
    {"F16", 1, 2, false},
    {"BF16", 1, 2, false},
    {"Q8_0", k_q8_0_elems, sizeof(BlockQ8_0), true},
    {"Q4_0", k_q4_0_elems, sizeof(BlockQ4_0), true},
    {"Q4_K", k_qk_elems, sizeof(BlockQ4_K), true},
    {"Q6_K", k_qk_elems, sizeof(BlockQ6_K), true},
    {"MXFP4", k_mxfp4_elems, sizeof(BlockMXFP4), true},
    {"F8_E4M3", 1, 1, false},
    {"E8M0", 1, 1, false},
    {"U8", 1, 1, false},
    {"I8", 1, 1, false},
    {"I16", 1, 2, false},
    {"I32", 1, 4, false},
    {"I64", 1, 8, false},
    {"F64", 1, 8, false},
    {"Q8_K", k_qk_elems, sizeof(BlockQ8_K), true},
    {"Q5_0", k_q5_0_elems, sizeof(BlockQ5_0), true},
    {"Q5_K", k_qk_elems, sizeof(BlockQ5_K), true},
}};

struct GgmlId {
    uint32_t id;
    DType type;
};
// ggml_type enum values (ggml.h). Types absent here are reported by name as unsupported.
constexpr GgmlId k_ggml_ids[] = {
    {0, DType::F32},   {1, DType::F16},   {2, DType::Q4_0},  {6, DType::Q5_0},
    {8, DType::Q8_0},  {12, DType::Q4_K}, {13, DType::Q5_K}, {14, DType::Q6_K},
    {15, DType::Q8_K}, {24, DType::I8},   {25, DType::I16},  {26, DType::I32},
    {27, DType::I64},  {28, DType::F64},  {30, DType::BF16}, {39, DType::MXFP4},
};

constexpr const char* k_ggml_names[] = {
    "F32",
    "F16",
    "Q4_0",
    "Q4_1",
    "Q4_2(removed)",
    "Q4_3(removed)",
    "Q5_0",
    "Q5_1",
    "Q8_0",
    "Q8_1",
    "Q2_K",
    "Q3_K",
    "Q4_K",
    "Q5_K",
    "Q6_K",
    "Q8_K",
    "IQ2_XXS",
    "IQ2_XS",
    "IQ3_XXS",
    "IQ1_S",
    "IQ4_NL",
    "IQ3_S",
    "IQ2_S",
    "IQ4_XS",
    "I8",
    "I16",
    "I32",
    "I64",
    "F64",
    "IQ1_M",
    "BF16",
    "Q4_0_4_4(removed)",
    "Q4_0_4_8(removed)",
    "Q4_0_8_8(removed)",
    "TQ1_0",
    "TQ2_0",
    "IQ4_NL_4_4(removed)",
    "IQ4_NL_4_8(removed)",
    "IQ4_NL_8_8(removed)",
    "MXFP4",
};

}  // namespace

const DTypeTraits& dtype_traits(DType t) {
    return k_traits.at(size_t(t));
}

size_t dtype_row_bytes(DType t, int64_t n) {
    const auto& tr = dtype_traits(t);
    require(n % tr.block_elems == 0, "a row of ", n, " values cannot be stored as ", tr.name,
            ": the row length must be a multiple of ", tr.block_elems);
    return size_t(n / tr.block_elems) * size_t(tr.block_bytes);
}

std::optional<DType> dtype_from_ggml(uint32_t ggml_type) {
    for (const auto& g : k_ggml_ids)
        if (g.id == ggml_type) return g.type;
    return std::nullopt;
}

uint32_t dtype_to_ggml(DType t) {
    for (const auto& g : k_ggml_ids)
        if (g.type == t) return g.id;
    fail("type ", dtype_name(t), " has no GGUF encoding");
}

std::string ggml_type_name(uint32_t ggml_type) {
    if (ggml_type < std::size(k_ggml_names)) return k_ggml_names[ggml_type];
    return str_cat("unknown ggml type ", ggml_type);
}

std::optional<DType> dtype_from_safetensors(std::string_view s) {
    if (s == "F32") return DType::F32;
    if (s == "F16") return DType::F16;
    if (s == "BF16") return DType::BF16;
    if (s == "F8_E4M3") return DType::F8_E4M3;
    if (s == "F8_E8M0") return DType::E8M0;
    if (s == "U8") return DType::U8;
    if (s == "I8") return DType::I8;
    if (s == "I16") return DType::I16;
    if (s == "I32") return DType::I32;
    if (s == "I64") return DType::I64;
    if (s == "F64") return DType::F64;
    return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view s) {
    std::string up(s);
    std::transform(up.begin(), up.end(), up.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    for (size_t i = 0; i < k_traits.size(); ++i)
        if (up == k_traits[i].name) return DType(i);
    if (up == "FP8") return DType::F8_E4M3;
    return std::nullopt;
}

}  // namespace pangolin
