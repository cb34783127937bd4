// Where vocabularies come from: a Hugging Face tokenizer.json (built here from the Qwen2
// fixture vocabulary, in the layout transformers writes) and the clear errors for sources
// that hold no usable vocabulary or malformed data.
#include <gtest/gtest.h>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "support/fixtures.h"
#include "support_vocab.h"
#include "text/tokenizer.h"

using namespace pangolin;
using namespace pangolin::test;
using nlohmann::json;

namespace {

// Qwen2's tokenizer.json as transformers writes it, from the GGUF vocabulary: normal tokens
// in model.vocab, control tokens in added_tokens, merges half as "a b", half as ["a", "b"].
void write_qwen2_folder(const std::filesystem::path& dir) {
    const GgufFile g(vocab_gguf("qwen2"));
    const auto tokens = g.get_strings("tokenizer.ggml.tokens");
    const auto types = g.get_ints("tokenizer.ggml.token_type");
    const auto merges = g.get_strings("tokenizer.ggml.merges");
    json vocab = json::object(), added = json::array(), merge_list = json::array();
    for (size_t id = 0; id < tokens.size(); ++id) {
        if (types[id] == 1)
            vocab[tokens[id]] = id;
        else if (types[id] == 3)
            added.push_back({{"id", id},
                             {"content", tokens[id]},
                             {"single_word", false},
                             {"lstrip", false},
                             {"rstrip", false},
                             {"normalized", false},
                             {"special", true}});
    }
    for (size_t k = 0; k < merges.size(); ++k) {
        if (k % 2 == 0) {
            merge_list.push_back(merges[k]);
        } else {
            const size_t space = merges[k].find(' ', 1);
            merge_list.push_back({merges[k].substr(0, space), merges[k].substr(space + 1)});
        }
    }
    const json pre = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern",
            {{"Regex",
              R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
           {"behavior", "Isolated"},
           {"invert", false}},
          {{"type", "ByteLevel"},
           {"add_prefix_space", false},
           {"trim_offsets", false},
           {"use_regex", false}}}}};
    const json tj = {
        {"version", "1.0"},
        {"added_tokens", added},
        {"normalizer", {{"type", "NFC"}}},
        {"pre_tokenizer", pre},
        {"post_processor", {{"type", "ByteLevel"}}},
        {"decoder", {{"type", "ByteLevel"}}},
        {"model",
         {{"type", "BPE"}, {"vocab", vocab}, {"merges", merge_list}, {"ignore_merges", false}}}};
    write_file(dir / "tokenizer.json", tj.dump());
    const json tc = {{"bos_token", nullptr},
                     {"eos_token", "<|endoftext|>"},
                     {"add_bos_token", false},
                     {"chat_template",
                      {{{"name", "default"}, {"template", "T-default"}},
                       {{"name", "tool_use"}, {"template", "T-tools"}}}}};
    write_file(dir / "tokenizer_config.json", tc.dump());
    write_file(dir / "config.json",
               json{{"architectures", {"Qwen2ForCausalLM"}}, {"vocab_size", tokens.size()}}.dump());
}

template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST(HfTokenizerJson, Qwen2FolderMatchesLlamaCpp) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    write_qwen2_folder(dir.path());
    const auto tok = load_tokenizer(dir.path().string());
    EXPECT_EQ(tok->n_vocab(), 151936u);  // config.json's vocab_size, padded
    EXPECT_EQ(tok->eos_text(), "<|endoftext|>");
    EXPECT_EQ(tok->chat_template(), "T-default");
    EXPECT_FALSE(tok->add_bos_default());
    EXPECT_NE(tok->describe().find("qwen2"), std::string::npos) << tok->describe();
    const auto cases = read_vocab_cases("qwen2");
    ASSERT_GE(cases.size(), 40u);
    for (const auto& c : cases)
        EXPECT_EQ(ids_str(tok->encode(c.text, false, false)), ids_str(c.ids)) << c.text;
    EXPECT_EQ(tok->encode("<|im_start|>", false, true), std::vector<int32_t>{151644});
}

TEST(TokenizerErrors, GgufByteLevelVocabularyWithoutMerges) {
    TempDir dir;
    const auto path = (dir / "no-merges.gguf").string();
    {
        GgufWriter w(path);
        w.set_string("general.architecture", "qwen2");
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_string("tokenizer.ggml.pre", "qwen2");
        w.set_strings("tokenizer.ggml.tokens", {"a", "b", "ab"});
        w.write_header();
        w.finish();
    }
    EXPECT_NE(error_of([&] { load_tokenizer(path); }).find("tokenizer.ggml.merges is missing"),
              std::string::npos);
}

TEST(TokenizerErrors, GgufWithoutVocabularyOrWithUnknownPreTokenizer) {
    TempDir dir;
    const auto none = (dir / "none.gguf").string();
    {
        GgufWriter w(none);
        w.set_string("general.architecture", "llama");
        w.write_header();
        w.finish();
    }
    EXPECT_NE(error_of([&] { load_tokenizer(none); }).find("no vocabulary"), std::string::npos);
    const auto odd = (dir / "odd.gguf").string();
    {
        GgufWriter w(odd);
        w.set_string("general.architecture", "llama");
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_string("tokenizer.ggml.pre", "made-up");
        w.set_strings("tokenizer.ggml.tokens", {"a"});
        w.set_strings("tokenizer.ggml.merges", {});
        w.write_header();
        w.finish();
    }
    EXPECT_NE(error_of([&] { load_tokenizer(odd); }).find("unsupported pre-tokenizer 'made-up'"),
              std::string::npos);
}

TEST(TokenizerErrors, MalformedTokenizerJson) {
    TempDir dir;
    const auto folder = dir.path().string();
    const auto load_with = [&](const std::string& content) {
        write_file(dir / "tokenizer.json", content);
        return error_of([&] { load_tokenizer(folder); });
    };
    EXPECT_NE(load_with("{\"model\": {\"type\": \"BPE\", ").find("not valid JSON"),
              std::string::npos);
    EXPECT_NE(load_with("[1, 2]").find("must hold a JSON object"), std::string::npos);
    const std::string byte_level = R"("pre_tokenizer": {"type": "ByteLevel", "use_regex": true})";
    EXPECT_NE(
        load_with("{" + byte_level + R"(, "model": {"type": "BPE", "vocab": [1], "merges": []}})")
            .find("model.vocab must be an object"),
        std::string::npos);
    EXPECT_NE(
        load_with("{" + byte_level + R"(, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1}}})")
            .find("model.merges is missing"),
        std::string::npos);
    EXPECT_NE(load_with("{" + byte_level +
                        R"(, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}})")
                  .find("model.merges[0] must be"),
              std::string::npos);
    EXPECT_NE(load_with("{" + byte_level +
                        R"(, "model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}})")
                  .find("must be a non-negative integer token id"),
              std::string::npos);
    // A value of the wrong JSON type deep inside: still an Error naming the folder.
    EXPECT_NE(
        load_with(
            R"({"pre_tokenizer": {"type": 5}, "decoder": {"type": "ByteLevel"}, "model": {"vocab": {}, "merges": []}})")
            .find(folder),
        std::string::npos);
    EXPECT_NE(
        load_with(
            R"({"pre_tokenizer": {"type": "Metaspace"}, "decoder": {"type": "ByteLevel"}, "model": {"vocab": {"a": 0}, "merges": []}})")
            .find("'Metaspace' is not supported"),
        std::string::npos);
}

TEST(TokenizerErrors, FolderWithoutVocabularyOrBrokenSentencePieceModel) {
    TempDir dir;
    EXPECT_NE(error_of([&] {
                  load_tokenizer(dir.path().string());
              }).find("no tokenizer.json or tokenizer.model"),
              std::string::npos);
    write_file(dir / "tokenizer.model", "this is not a protobuf");
    EXPECT_NE(error_of([&] {
                  load_tokenizer(dir.path().string());
              }).find("not a usable SentencePiece model"),
              std::string::npos);
    EXPECT_NE(
        error_of([&] { load_tokenizer((dir / "missing.gguf").string()); }).find("no such file"),
        std::string::npos);
}

TEST(TokenizerErrors, InvalidUtf8TextAndUnknownIds) {
    PANGOLIN_REQUIRE_SHARED();
    for (const std::string& path : {vocab_gguf("qwen2"), vocab_gguf("llama-spm")}) {
        const auto tok = load_tokenizer(path);
        for (const char* bad : {"abc\xFF", "\xC0\x80", "ok \xE4\xB8", "\xED\xA0\x80", "\x80"})
            EXPECT_NE(error_of([&] { tok->encode(bad, true, true); }).find("is not valid UTF-8"),
                      std::string::npos)
                << path;
        EXPECT_NE(error_of([&] {
                      tok->decode({1, -5});
                  }).find("token id -5 is outside the vocabulary"),
                  std::string::npos);
        EXPECT_NE(error_of([&] {
                      tok->token_to_piece(int32_t(tok->n_vocab()));
                  }).find("outside the vocabulary"),
                  std::string::npos);
    }
}

// A tokenizer-only folder (no config.json, no weights): tokenizer.model, a chat_template.jinja
// file, and tokenizer_config.json's added_tokens_decoder turning a piece into a control token.
TEST(HfSentencePiece, TokenizerOnlyFolderWithAddedTokensAndTemplateFile) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    std::filesystem::copy_file(kjv_dir() / "hf" / "tokenizer.model", dir / "tokenizer.model");
    write_file(dir / "chat_template.jinja", "{{ messages[0]['content'] }}\n");
    write_file(
        dir / "tokenizer_config.json",
        R"({"add_bos_token": false, "added_tokens_decoder": {"3": {"content": "<|user|>", "special": true}}})");
    const auto tok = load_tokenizer(dir.path().string());
    EXPECT_EQ(tok->chat_template(), "{{ messages[0]['content'] }}\n");
    EXPECT_FALSE(tok->add_bos_default());
    EXPECT_EQ(tok->encode("<|user|>In the beginning", true, true),
              (std::vector<int32_t>{3, 1040, 261, 1899}));
    EXPECT_EQ(tok->decode({3, 1040}), "<|user|> In");
    EXPECT_EQ(tok->decode({3, 1040}, true), " In");
}

TEST(TokenizerErrors, ImplausibleIdsAreRejectedNotAllocated) {
    TempDir dir;
    const std::string byte_level = R"("pre_tokenizer": {"type": "ByteLevel"}, )";
    write_file(dir / "tokenizer.json",
               "{" + byte_level + R"("model": {"vocab": {"a": 2000000000}, "merges": []}})");
    EXPECT_NE(error_of([&] {
                  load_tokenizer(dir.path().string());
              }).find("token id 2000000000 of 'a' is outside"),
              std::string::npos);
    write_file(dir / "tokenizer.json",
               "{" + byte_level + R"("model": {"vocab": {"a": 0}, "merges": []}})");
    write_file(dir / "config.json", R"({"vocab_size": 1000000000})");
    EXPECT_NE(error_of([&] {
                  load_tokenizer(dir.path().string());
              }).find("vocab_size 1000000000 is far beyond"),
              std::string::npos);
}
