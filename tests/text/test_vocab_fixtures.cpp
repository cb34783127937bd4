// llama.cpp's tokenizer test vectors (../shared/fixtures/vocab): every .inp string encodes to
// the .out ids (no BOS, special tokens not parsed) and decodes back to itself.
#include <gtest/gtest.h>

#include <chrono>

#include "support/fixtures.h"
#include "text/tokenizer.h"

using namespace pangolin;
using namespace pangolin::test;

namespace {

struct VocabCase {
    std::string text;
    std::vector<int32_t> ids;
};

std::vector<std::string> split_on(const std::string& s, const std::string& sep) {
    std::vector<std::string> out;
    size_t pos = 0;
    for (size_t hit; (hit = s.find(sep, pos)) != std::string::npos; pos = hit + sep.size())
        out.push_back(s.substr(pos, hit - pos));
    out.push_back(s.substr(pos));
    return out;
}

// .inp: each string followed by "\n__ggml_vocab_test__\n" (so a string's own trailing
// newlines are part of it); .out: one line of space-separated ids per string.
std::vector<VocabCase> read_cases(const std::string& name) {
    const auto base = shared_dir() / "fixtures" / "vocab" / ("ggml-vocab-" + name + ".gguf");
    auto inputs = split_on(read_file(base.string() + ".inp"), "\n__ggml_vocab_test__\n");
    auto lines = split_on(read_file(base.string() + ".out"), "\n");
    EXPECT_EQ(inputs.back(), "");
    EXPECT_EQ(lines.back(), "");
    inputs.pop_back();
    lines.pop_back();
    EXPECT_EQ(inputs.size(), lines.size()) << name;
    std::vector<VocabCase> cases;
    for (size_t k = 0; k < std::min(inputs.size(), lines.size()); ++k) {
        VocabCase c{inputs[k], {}};
        std::istringstream in(lines[k]);
        for (int32_t id; in >> id;) c.ids.push_back(id);
        cases.push_back(std::move(c));
    }
    return cases;
}

std::string ids_str(const std::vector<int32_t>& ids) {
    std::string s;
    for (auto id : ids) s += " " + std::to_string(id);
    return s;
}

class VocabFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabFixture, EncodesLikeLlamaCpp) {
    PANGOLIN_REQUIRE_SHARED();
    const std::string name = GetParam();
    const auto t0 = std::chrono::steady_clock::now();
    const auto tok = load_tokenizer((shared_dir() / "fixtures" / "vocab" / ("ggml-vocab-" + name + ".gguf")).string());
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    RecordProperty("load_seconds", std::to_string(load_s));
    const auto cases = read_cases(name);
    ASSERT_GE(cases.size(), 40u);
    for (const auto& c : cases)
        EXPECT_EQ(ids_str(tok->encode(c.text, false, false)), ids_str(c.ids)) << name << ": " << ::testing::PrintToString(c.text);
}

// The pieces of the ids are the text, byte for byte. decode() gives the text back too, except
// that GPT-2 and Llama 3 vocabularies clean up spaces before punctuation on decode as
// llama.cpp (and Hugging Face's clean_up_tokenization_spaces) does: of these strings, only
// " ?" is affected.
TEST_P(VocabFixture, DecodesBackToTheText) {
    PANGOLIN_REQUIRE_SHARED();
    const std::string name = GetParam();
    const auto tok = load_tokenizer((shared_dir() / "fixtures" / "vocab" / ("ggml-vocab-" + name + ".gguf")).string());
    const bool cleans_spaces = name == "gpt-2" || name == "llama-bpe";
    for (const auto& c : read_cases(name)) {
        std::string pieces;
        for (const int32_t id : c.ids) pieces += tok->token_to_piece(id);
        // SentencePiece pieces carry the dummy-prefix space of the first word.
        const std::string prefix = name == "llama-spm" && !c.text.empty() ? " " : "";
        EXPECT_EQ(pieces, prefix + c.text) << name << ": " << ::testing::PrintToString(c.text);

        std::string expected = c.text;
        for (size_t at; cleans_spaces && (at = expected.find(" ?")) != std::string::npos;) expected.erase(at, 1);
        EXPECT_EQ(tok->decode(c.ids), expected) << name << ": " << ::testing::PrintToString(c.text);
    }
}

INSTANTIATE_TEST_SUITE_P(Vocab, VocabFixture,
                         ::testing::Values("deepseek-coder", "deepseek-llm", "gpt-2", "llama-bpe", "llama-spm", "qwen2",
                                           "qwen35"),
                         [](const auto& param_info) {
                             std::string n = param_info.param;
                             for (auto& ch : n) if (ch == '-') ch = '_';
                             return n;
                         });

}  // namespace
