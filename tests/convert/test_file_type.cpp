// The per-tensor type rules of llama-quantize (llama.cpp src/llama-quant.cpp) on made-up
// tensor lists, for the cases the fixtures do not reach (70B models, 8-expert models, tied
// embeddings, fallbacks), and Pangolin's FP8 rule.
#include <gtest/gtest.h>

#include <algorithm>

#include "convert/file_type.h"

using namespace pangolin;

namespace {

std::vector<TensorInfo> llama_tensors(int n_layer, int64_t d, int64_t ff, bool with_output) {
    std::vector<TensorInfo> t = {{"token_embd.weight", {32000, d}}, {"output_norm.weight", {d}}};
    if (with_output) t.push_back({"output.weight", {32000, d}});
    for (int i = 0; i < n_layer; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        for (const char* s :
             {"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight"})
            t.push_back({p + s, {d, d}});
        t.push_back({p + "ffn_gate.weight", {ff, d}});
        t.push_back({p + "ffn_up.weight", {ff, d}});
        t.push_back({p + "ffn_down.weight", {d, ff}});
        t.push_back({p + "attn_norm.weight", {d}});
        t.push_back({p + "ffn_norm.weight", {d}});
    }
    std::stable_sort(t.begin(), t.end(), [](const TensorInfo& a, const TensorInfo& b) {
        return llama_tensor_order(a.name, b.name);
    });
    return t;
}

std::map<std::string, DType> choose_all(const std::string& type, const QuantModelInfo& m,
                                        const std::vector<TensorInfo>& t,
                                        std::vector<std::string>* notes = nullptr) {
    TypeChooser chooser(*parse_file_type(type), m, t);
    std::map<std::string, DType> out;
    std::string note;
    for (const auto& x : t) {
        out[x.name] = chooser.choose(x, &note);
        if (notes && !note.empty()) notes->push_back(note);
    }
    return out;
}

bool use_more_bits(int i, int n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

}  // namespace

TEST(FileType, NamesAndAliases) {
    EXPECT_EQ(parse_file_type("q4_k")->type, FileType::Q4_K_M);  // llama-quantize's alias
    EXPECT_FALSE(parse_file_type("q4_k")->pure);
    EXPECT_EQ(parse_file_type("MXFP4")->type, FileType::MXFP4_MOE);
    EXPECT_TRUE(parse_file_type("MXFP4")->pure);
    EXPECT_EQ(parse_file_type("fp8")->type, FileType::FP8);
    EXPECT_FALSE(parse_file_type("Q3_K").has_value());
    EXPECT_EQ(int(FileType::MXFP4_MOE), 38);
}

TEST(FileType, LlamaQuantizeOrder) {
    EXPECT_TRUE(llama_tensor_order("output.weight", "blk.0.attn_q.weight"));
    EXPECT_TRUE(llama_tensor_order("blk.2.ffn_up.weight", "blk.10.attn_q.weight"));
    EXPECT_TRUE(llama_tensor_order("blk.3.attn_k.weight", "blk.3.attn_q.weight"));
}

// Q4_K_M on a 70B Llama (80 layers, GQA): attn_v Q6_K where use_more_bits, else Q5_K (the
// 70B bump); ffn_down Q6_K where use_more_bits; output Q6_K; norms stay F32.
TEST(FileType, Q4_K_MOn70B) {
    const auto t = llama_tensors(80, 8192, 28672, true);
    const auto types = choose_all("Q4_K_M", {"llama", 80, 64, 8, 0}, t);
    EXPECT_EQ(types.at("output.weight"), DType::Q6_K);
    EXPECT_EQ(types.at("token_embd.weight"), DType::Q4_K);
    EXPECT_EQ(types.at("output_norm.weight"), DType::F32);
    for (int i = 0; i < 80; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        EXPECT_EQ(types.at(p + "attn_v.weight"), use_more_bits(i, 80) ? DType::Q6_K : DType::Q5_K)
            << i;
        EXPECT_EQ(types.at(p + "ffn_down.weight"), use_more_bits(i, 80) ? DType::Q6_K : DType::Q4_K)
            << i;
        EXPECT_EQ(types.at(p + "attn_q.weight"), DType::Q4_K);
        EXPECT_EQ(types.at(p + "attn_norm.weight"), DType::F32);
    }
    // not 70B: no Q5_K
    const auto small =
        choose_all("Q4_K_M", {"llama", 32, 32, 8, 0}, llama_tensors(32, 4096, 14336, true));
    EXPECT_EQ(small.at("blk.5.attn_v.weight"), DType::Q4_K);
    EXPECT_EQ(small.at("blk.6.attn_v.weight"), DType::Q6_K);
}

// Without output.weight the token embedding serves as the output head and gets its type.
TEST(FileType, TiedEmbeddings) {
    const auto t = llama_tensors(2, 256, 512, false);
    EXPECT_EQ(choose_all("Q4_0", {"qwen3", 2, 4, 2, 0}, t).at("token_embd.weight"), DType::Q6_K);
    EXPECT_EQ(choose_all("Q8_0", {"qwen3", 2, 4, 2, 0}, t).at("token_embd.weight"), DType::Q8_0);
    EXPECT_EQ(choose_all("Q4_0", {"qwen3", 2, 4, 2, 0}, llama_tensors(2, 256, 512, true))
                  .at("token_embd.weight"),
              DType::Q4_0);
}

// Mixtral-like 8-expert models bump attention tensors.
TEST(FileType, EightExperts) {
    std::vector<TensorInfo> t = {{"output.weight", {32000, 4096}},
                                 {"blk.0.attn_k.weight", {1024, 4096}},
                                 {"blk.0.attn_output.weight", {4096, 4096}},
                                 {"blk.0.attn_v.weight", {1024, 4096}},
                                 {"blk.0.ffn_down_exps.weight", {8, 4096, 14336}},
                                 {"blk.0.ffn_gate_inp.weight", {8, 4096}}};
    const auto types = choose_all("Q4_K_M", {"llama", 32, 32, 8, 8}, t);
    EXPECT_EQ(types.at("blk.0.attn_k.weight"), DType::Q8_0);
    EXPECT_EQ(types.at("blk.0.attn_v.weight"), DType::Q8_0);
    EXPECT_EQ(types.at("blk.0.attn_output.weight"), DType::Q5_K);
    EXPECT_EQ(types.at("blk.0.ffn_down_exps.weight"), DType::Q6_K);  // layer 0 < 32/8
    EXPECT_EQ(types.at("blk.0.ffn_gate_inp.weight"), DType::F32);    // routers stay exact
}

TEST(FileType, Mxfp4MoeAndPure) {
    std::vector<TensorInfo> t = {{"output.weight", {1024, 128}},
                                 {"token_embd.weight", {1024, 128}},
                                 {"blk.0.attn_q.weight", {128, 128}},
                                 {"blk.0.ffn_up_exps.weight", {16, 64, 128}},
                                 {"blk.0.ffn_gate_inp.weight", {16, 128}}};
    const auto moe = choose_all("MXFP4_MOE", {"qwen3moe", 1, 4, 2, 16}, t);
    EXPECT_EQ(moe.at("output.weight"), DType::Q8_0);
    EXPECT_EQ(moe.at("token_embd.weight"), DType::Q8_0);
    EXPECT_EQ(moe.at("blk.0.attn_q.weight"), DType::Q8_0);
    EXPECT_EQ(moe.at("blk.0.ffn_up_exps.weight"), DType::MXFP4);
    const auto pure = choose_all("MXFP4", {"qwen3moe", 1, 4, 2, 16}, t);
    EXPECT_EQ(pure.at("output.weight"), DType::MXFP4);
    EXPECT_EQ(pure.at("blk.0.attn_q.weight"), DType::MXFP4);
    EXPECT_EQ(pure.at("blk.0.ffn_gate_inp.weight"), DType::F32);
}

// Rows that are not whole blocks: Q4_K → Q5_0, Q6_K → Q8_0, then F16; each reported.
TEST(FileType, Fallbacks) {
    std::vector<TensorInfo> t = {{"output.weight", {1024, 96}},
                                 {"blk.0.attn_q.weight", {128, 64}},
                                 {"blk.0.attn_k.weight", {128, 48}},
                                 {"blk.0.ffn_down.weight", {128, 64}}};
    std::vector<std::string> notes;
    const auto types = choose_all("Q4_K_M", {"qwen2", 1, 4, 4, 0}, t, &notes);
    EXPECT_EQ(types.at("output.weight"), DType::Q8_0);  // nx % 256: Q8_0 directly
    EXPECT_EQ(types.at("blk.0.attn_q.weight"), DType::Q5_0);
    EXPECT_EQ(types.at("blk.0.attn_k.weight"), DType::F16);     // 48: no 32-value block either
    EXPECT_EQ(types.at("blk.0.ffn_down.weight"), DType::Q8_0);  // Q6_K (layer 0 of 1) → Q8_0
    ASSERT_EQ(notes.size(), 3u);
    EXPECT_EQ(notes[1],
              "blk.0.attn_k.weight: rows of 48 values are not a multiple of the Q4_K block (256); "
              "using F16 "
              "as llama-quantize does");
    const auto q8 = choose_all("Q8_0", {"qwen2", 1, 4, 4, 0}, t);
    EXPECT_EQ(q8.at("blk.0.attn_k.weight"), DType::F16);
}

TEST(FileType, Fp8Rule) {
    std::vector<TensorInfo> t = {{"token_embd.weight", {1024, 256}},
                                 {"output.weight", {1024, 256}},
                                 {"blk.0.attn_q_a.weight", {128, 256}},
                                 {"blk.0.attn_k_b.weight", {4, 128, 32}},
                                 {"blk.0.ffn_gate_exps.weight", {16, 128, 256}},
                                 {"blk.0.ffn_gate_inp.weight", {16, 256}},
                                 {"blk.0.attn_norm.weight", {256}}};
    auto types = choose_all("FP8", {"deepseek2", 1, 4, 1, 16}, t);
    EXPECT_EQ(types.at("token_embd.weight"), DType::BF16);
    EXPECT_EQ(types.at("output.weight"), DType::BF16);
    EXPECT_EQ(types.at("blk.0.attn_q_a.weight"), DType::F8_E4M3);
    EXPECT_EQ(types.at("blk.0.attn_k_b.weight"), DType::BF16);
    EXPECT_EQ(types.at("blk.0.ffn_gate_exps.weight"), DType::F8_E4M3);
    EXPECT_EQ(types.at("blk.0.ffn_gate_inp.weight"), DType::F32);
    EXPECT_EQ(types.at("blk.0.attn_norm.weight"), DType::F32);
    // from an FP8 checkpoint exactly its FP8 tensors stay FP8
    t[4].fp8_source = true;
    types = choose_all("FP8", {"deepseek2", 1, 4, 1, 16}, t);
    EXPECT_EQ(types.at("blk.0.ffn_gate_exps.weight"), DType::F8_E4M3);
    EXPECT_EQ(types.at("blk.0.attn_q_a.weight"), DType::BF16);
}
