// llama.cpp's tokenizer test vectors (../shared/fixtures/vocab): every .inp string encodes to
// the .out ids (no BOS, special tokens not parsed) and decodes back to itself.
#include <gtest/gtest.h>

#include "support_vocab.h"
#include "text/tokenizer.h"

using namespace pangolin;
using namespace pangolin::test;

namespace {

class VocabFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabFixture, EncodesLikeLlamaCpp) {
    PANGOLIN_REQUIRE_SHARED();
    const std::string name = GetParam();
    const auto tok = load_tokenizer(vocab_gguf(name));
    const auto cases = read_vocab_cases(name);
    ASSERT_GE(cases.size(), 40u);
    for (const auto& c : cases)
        EXPECT_EQ(ids_str(tok->encode(c.text, false, false)), ids_str(c.ids))
            << name << ": " << ::testing::PrintToString(c.text);
}

// The pieces of the ids are the text, byte for byte. decode() gives the text back too, except
// that GPT-2 and Llama 3 vocabularies clean up spaces before punctuation on decode as
// llama.cpp (and Hugging Face's clean_up_tokenization_spaces) does: of these strings, only
// " ?" is affected.
TEST_P(VocabFixture, DecodesBackToTheText) {
    PANGOLIN_REQUIRE_SHARED();
    const std::string name = GetParam();
    const auto tok = load_tokenizer(vocab_gguf(name));
    const bool cleans_spaces = name == "gpt-2" || name == "llama-bpe";
    for (const auto& c : read_vocab_cases(name)) {
        std::string pieces;
        for (const int32_t id : c.ids) pieces += tok->token_to_piece(id);
        // SentencePiece pieces carry the dummy-prefix space of the first word.
        const std::string prefix = name == "llama-spm" && !c.text.empty() ? " " : "";
        EXPECT_EQ(pieces, prefix + c.text) << name << ": " << ::testing::PrintToString(c.text);

        std::string expected = c.text;
        for (size_t at; cleans_spaces && (at = expected.find(" ?")) != std::string::npos;)
            expected.erase(at, 1);
        EXPECT_EQ(tok->decode(c.ids), expected) << name << ": " << ::testing::PrintToString(c.text);
    }
}

INSTANTIATE_TEST_SUITE_P(Vocab, VocabFixture,
                         ::testing::Values("deepseek-coder", "deepseek-llm", "gpt-2", "llama-bpe",
                                           "llama-spm", "qwen2", "qwen35"),
                         [](const auto& param_info) {
                             std::string n = param_info.param;
                             for (auto& ch : n)
                                 if (ch == '-') ch = '_';
                             return n;
                         });

}  // namespace
