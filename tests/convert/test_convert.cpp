// `pangolin convert` against ../shared/fixtures: the GGUF files llama.cpp's converter made from
// the same Hugging Face folders, and the reference logits of the architectures it lacks.
#include <gtest/gtest.h>

#include <fstream>

#include "convert/convert.h"
#include "convert/gguf_compare.h"
#include "core/fp.h"
#include "formats/safetensors.h"
#include "support/model_eval.h"

using namespace pangolin;
using namespace pangolin::test;
namespace fs = std::filesystem;

namespace {

const nlohmann::json& case_for(const nlohmann::json& expected, const std::string& model) {
    for (const auto& c : expected["cases"])
        if (c["model"] == model) return c;
    throw std::runtime_error("no case for " + model);
}

std::string fixture_name(const std::string& p) {
    std::string s = p;
    for (auto& ch : s)
        if (ch == '-') ch = '_';
    return s;
}

class ConvertFixture : public ::testing::TestWithParam<std::string> {};

}  // namespace

// The archs llama.cpp knows: tensor names, order, shapes, types and bytes, and every metadata key
// with its type and value, equal the fixture's GGUF (made by llama.cpp's converter). The
// vocabulary is copied from that GGUF (--vocab-from): the HF folders hold no tokenizer, the
// fixture GGUFs a placeholder vocabulary.
TEST_P(ConvertFixture, MatchesLlamaCppFile) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = fixture_models_dir() / GetParam();
    const GgufFile ref((dir / "model-f32.gguf").string());
    TempDir tmp;
    const auto out = (tmp / "model.gguf").string();
    ConvertOptions o;
    o.vocab_from = (dir / "model-f32.gguf").string();
    o.name = *ref.get_string("general.name");
    o.threads = 2;
    convert_hf_to_gguf((dir / "hf").string(), out, o);
    const GgufFile ours(out);

    EXPECT_EQ(metadata_keys(ours), metadata_keys(ref));
    for (const auto& [key, value] : ref.metadata()) {
        const GgufValue* v = ours.find(key);
        ASSERT_NE(v, nullptr) << key;
        EXPECT_TRUE(same_value(*v, value))
            << key << ": " << v->to_string() << " vs " << value.to_string();
    }
    ASSERT_EQ(ours.tensors().size(), ref.tensors().size());
    for (size_t i = 0; i < ref.tensors().size(); ++i) {
        const TensorView &a = ours.tensors()[i], &b = ref.tensors()[i];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.shape, b.shape) << b.name;
        EXPECT_EQ(a.type, b.type) << b.name;
        ASSERT_EQ(a.nbytes, b.nbytes) << b.name;
        EXPECT_EQ(0, std::memcmp(a.data, b.data, a.nbytes)) << b.name << ": data differs";
    }
    const auto expected = read_json(dir / "expected.json");
    nlohmann::json f32_case = case_for(expected, "model-f32.gguf");
    f32_case.erase("exact_logits");
    check_fixture_case(f32_case, dir, out, true);
}

INSTANTIATE_TEST_SUITE_P(LlamaCppArchs, ConvertFixture,
                         ::testing::Values("llama", "qwen2", "qwen3", "pangu-embedded", "qwen3moe",
                                           "deepseek-v3"),
                         [](const auto& p) { return fixture_name(p.param); });

// Architectures llama.cpp lacks (and DeepSeek's FP8 checkpoint): converted, loaded back from
// GGUF, the logits of the reference.
class ConvertHfOnly : public ::testing::TestWithParam<std::string> {};

TEST_P(ConvertHfOnly, LoadsBackWithReferenceLogits) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = fixture_models_dir() / GetParam();
    TempDir tmp;
    const auto out = (tmp / "model.gguf").string();
    ConvertOptions o;
    o.threads = 2;
    convert_hf_to_gguf((dir / "hf").string(), out, o);
    const auto expected = read_json(dir / "expected.json");
    check_fixture_case(expected["cases"][0], dir, out, true);
}

INSTANTIATE_TEST_SUITE_P(HfOnly, ConvertHfOnly,
                         ::testing::Values("pangu-pro-moe", "pangu-ultra-moe", "deepseek-v3-fp8"),
                         [](const auto& p) { return fixture_name(p.param); });

// The Pangu layouts of docs/gguf-pangu-pro-moe.md and docs/gguf-pangu-ultra-moe.md.
TEST(ConvertPangu, DocumentedNamesAndKeys) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir tmp;
    ConvertOptions o;
    convert_hf_to_gguf((fixture_models_dir() / "pangu-pro-moe" / "hf").string(),
                       (tmp / "pro.gguf").string(), o);
    const GgufFile pro((tmp / "pro.gguf").string());
    EXPECT_EQ(pro.get_string("general.architecture"), "pangu-pro-moe");
    EXPECT_EQ(pro.get_int("pangu-pro-moe.expert_group_count"), 8);
    EXPECT_EQ(pro.get_int("pangu-pro-moe.expert_shared_feed_forward_length"), 128);
    EXPECT_EQ(pro.get_int("pangu-pro-moe.expert_gating_func"), 1);
    EXPECT_EQ(pro.get_bool("pangu-pro-moe.expert_weights_norm"), false);
    for (const char* t : {"blk.1.ffn_gate_inp.weight", "blk.1.ffn_gate_inp_scale.weight",
                          "blk.1.ffn_gate_exps.weight", "blk.1.ffn_down_exps.weight",
                          "blk.1.ffn_up_shexp.weight", "blk.1.attn_output.bias"})
        EXPECT_NE(pro.find_tensor(t), nullptr) << t;
    EXPECT_EQ(pro.find_tensor("blk.0.ffn_gate_inp_scale.weight")->shape,
              (std::vector<int64_t>{64}));

    convert_hf_to_gguf((fixture_models_dir() / "pangu-ultra-moe" / "hf").string(),
                       (tmp / "ultra.gguf").string(), o);
    const GgufFile ultra((tmp / "ultra.gguf").string());
    EXPECT_EQ(ultra.get_int("pangu-ultra-moe.leading_dense_block_count"), 1);
    EXPECT_EQ(ultra.get_int("pangu-ultra-moe.expert_gating_func"), 2);
    EXPECT_EQ(ultra.get_int("pangu-ultra-moe.attention.key_length_mla"), 24);
    EXPECT_EQ(ultra.find("pangu-ultra-moe.expert_group_count"), nullptr);
    for (const char* t :
         {"blk.0.post_attention_norm.weight", "blk.0.post_ffw_norm.weight", "blk.0.ffn_norm.weight",
          "blk.2.attn_k_b.weight", "blk.2.attn_v_b.weight", "blk.2.ffn_gate_shexp.weight"})
        EXPECT_NE(ultra.find_tensor(t), nullptr) << t;
}

// --type fp8 on DeepSeek's FP8 checkpoint: the E4M3 codes and their power-of-two scales come
// through unchanged (docs/gguf-fp8.md), and the file runs with the reference logits.
TEST(ConvertFp8, KeepsTheCheckpointsBlocks) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = fixture_models_dir() / "deepseek-v3-fp8";
    TempDir tmp;
    const auto out = (tmp / "fp8.gguf").string();
    ConvertOptions o;
    o.file_type = *parse_file_type("fp8");
    convert_hf_to_gguf((dir / "hf").string(), out, o);
    const GgufFile g(out);
    EXPECT_EQ(g.fp8_block(), 128);
    EXPECT_EQ(g.find("general.file_type"), nullptr);

    const SafetensorsSet hf((dir / "hf").string());
    const TensorView* q = g.find_tensor("blk.0.attn_q_a.weight");
    const TensorView* qs = g.find_tensor("blk.0.attn_q_a.block_scale");
    const TensorView* hq = hf.find("model.layers.0.self_attn.q_a_proj.weight");
    const TensorView* hs = hf.find("model.layers.0.self_attn.q_a_proj.weight_scale_inv");
    ASSERT_TRUE(q && qs && hq && hs);
    EXPECT_EQ(q->type, DType::F8_E4M3);
    EXPECT_EQ(qs->type, DType::E8M0);
    EXPECT_EQ(qs->shape, hs->shape);
    // same values: code × scale, element by element
    for (int64_t i = 0; i < hq->numel(); ++i) {
        const int64_t r = i / hq->cols(), c = i % hq->cols(), s = (r / 128) * hs->cols() + c / 128;
        const float want =
            fp8_e4m3_to_f32(hq->data[i]) * reinterpret_cast<const float*>(hs->data)[s];
        const float got = fp8_e4m3_to_f32(q->data[i]) * e8m0_to_f32(qs->data[s]);
        ASSERT_EQ(got, want) << i;
    }
    const TensorView* exps = g.find_tensor("blk.1.ffn_gate_exps.weight");
    ASSERT_NE(exps, nullptr);
    EXPECT_EQ(exps->type, DType::F8_E4M3);
    EXPECT_EQ(g.find_tensor("blk.1.ffn_gate_exps.block_scale")->shape,
              (std::vector<int64_t>{16, 1, 2}));
    EXPECT_EQ(g.find_tensor("blk.0.attn_k_b.weight")->type, DType::BF16);  // per-head 3-D: BF16
    EXPECT_EQ(g.find_tensor("blk.0.attn_kv_a_mqa.weight")->type,
              DType::BF16);  // BF16 in the checkpoint
    EXPECT_EQ(g.find_tensor("token_embd.weight")->type, DType::BF16);
    EXPECT_EQ(g.find_tensor("blk.1.ffn_gate_inp.weight")->type, DType::F32);

    const auto expected = read_json(dir / "expected.json");
    check_fixture_case(expected["cases"][0], dir, out, true);
}

namespace {

// A copy of an HF fixture folder with extra files (the safetensors linked, not copied).
fs::path hf_copy(const TempDir& tmp, const fs::path& src, const std::string& name) {
    const fs::path dst = tmp / name;
    fs::create_directories(dst);
    for (const auto& e : fs::directory_iterator(src))
        fs::create_symlink(fs::absolute(e.path()), dst / e.path().filename());
    return dst;
}

}  // namespace

// SentencePiece: the kjv-demo folder's tokenizer.model gives the vocabulary of its GGUF, and a
// Q8_0 conversion equals llama-quantize's file tensor for tensor.
TEST(ConvertVocab, SentencePieceAndQ8_0LikeTheKjvDemo) {
    PANGOLIN_REQUIRE_SHARED();
    const auto kjv = shared_dir() / "models" / "kjv-demo";
    TempDir tmp;
    const auto out = (tmp / "kjv.gguf").string();
    ConvertOptions o;
    o.file_type = *parse_file_type("Q8_0");
    o.threads = 2;
    convert_hf_to_gguf((kjv / "hf").string(), out, o);
    const GgufFile ours(out), ref((kjv / "kjv-demo-q8_0.gguf").string());
    int n_keys = 0;
    for (const auto& [key, value] : ref.metadata()) {
        if (key.rfind("tokenizer.", 0) != 0) continue;
        ++n_keys;
        const GgufValue* v = ours.find(key);
        ASSERT_NE(v, nullptr) << key;
        EXPECT_TRUE(same_value(*v, value))
            << key << ": " << v->to_string() << " vs " << value.to_string();
    }
    EXPECT_EQ(n_keys, 11);
    for (const auto& [key, value] : ours.metadata()) {
        if (key.rfind("tokenizer.", 0) != 0) continue;
        EXPECT_NE(ref.find(key), nullptr) << "extra key " << key;
    }
    ASSERT_EQ(ours.tensors().size(), ref.tensors().size());
    for (const TensorView& b : ref.tensors()) {
        const TensorView* a = ours.find_tensor(b.name);
        ASSERT_NE(a, nullptr) << b.name;
        EXPECT_EQ(a->type, b.type) << b.name;
        ASSERT_EQ(a->nbytes, b.nbytes) << b.name;
        EXPECT_EQ(0, std::memcmp(a->data, b.data, a->nbytes)) << b.name;
    }
}

// Byte-level BPE from tokenizer.json: tokens, types, merges, pre-tokenizer, special tokens and
// the chat template.
TEST(ConvertVocab, BpeTokenizerJson) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir tmp;
    const auto dir = hf_copy(tmp, fixture_models_dir() / "qwen2" / "hf", "bpe");
    nlohmann::json vocab = nlohmann::json::object();
    for (int i = 0; i < 1000; ++i) vocab["t" + std::to_string(i)] = i;
    nlohmann::json tok = {
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"t1 t2", {"t3", "t4"}}}}},
        {"added_tokens",
         {{{"id", 1000}, {"content", "<|endoftext|>"}, {"special", true}},
          {{"id", 1001}, {"content", "<think>"}, {"special", false}}}},
        {"pre_tokenizer",
         {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"},
             {"pattern",
              {{"Regex",
                "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
                "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}}},
            {{"type", "ByteLevel"}}}}}},
    };
    std::ofstream(dir / "tokenizer.json") << tok.dump();
    std::ofstream(dir / "tokenizer_config.json") << nlohmann::json{
        {"eos_token", "<|endoftext|>"},
        {"add_bos_token", false},
        {"chat_template", "{{ messages }}"}}.dump();
    ConvertOptions o;
    convert_hf_to_gguf(dir.string(), (tmp / "bpe.gguf").string(), o);
    const GgufFile g((tmp / "bpe.gguf").string());
    EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(g.get_string("tokenizer.ggml.pre"), "qwen2");
    const auto tokens = g.get_strings("tokenizer.ggml.tokens");
    ASSERT_EQ(tokens.size(), 1024u);
    EXPECT_EQ(tokens[5], "t5");
    EXPECT_EQ(tokens[1000], "<|endoftext|>");
    EXPECT_EQ(tokens[1023], "[PAD1023]");
    const auto types = g.get_ints("tokenizer.ggml.token_type");
    EXPECT_EQ(types[5], 1);
    EXPECT_EQ(types[1000], 3);  // control
    EXPECT_EQ(types[1001], 4);  // user-defined
    EXPECT_EQ(types[1023], 5);  // unused padding
    EXPECT_EQ(g.get_strings("tokenizer.ggml.merges"), (std::vector<std::string>{"t1 t2", "t3 t4"}));
    EXPECT_EQ(g.get_int("tokenizer.ggml.eos_token_id"), 1000);
    EXPECT_EQ(g.get_int("tokenizer.ggml.bos_token_id"), 1);  // config.json
    EXPECT_EQ(g.get_bool("tokenizer.ggml.add_bos_token"), false);
    EXPECT_EQ(g.get_string("tokenizer.chat_template"), "{{ messages }}");
    EXPECT_EQ(g.find("tokenizer.ggml.scores"), nullptr);
}
